from django.urls import path

from monev import views, views_map

app_name = "monev"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("langkah/", views.occurrences, name="occurrences"),
    path("tren/", views.trend, name="trend"),
    path("unduh/xlsx/", views.export_xlsx, name="export_xlsx"),
    path("unduh/pdf/", views.export_pdf, name="export_pdf"),
    path("peta/", views_map.monev_map, name="map"),
    path("peta/penanda/", views_map.monev_map_markers, name="map_markers"),
    path("peta/daftar/", views_map.monev_map_items, name="map_items"),
]
