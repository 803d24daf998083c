from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("", include("core.urls")),
    path("", include("home.urls")),
    path("", include("accounts.urls")),
    path("", include("lokus.urls")),
    path("", include("reports.urls")),
    path("monev/", include("monev.urls")),
    path("bahasa/", set_language, name="set_language"),
    path("admin/", admin.site.urls),
]
