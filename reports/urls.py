from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("laporan/", views.report_list, name="list"),
    path("lokus/<int:pk>/laporan/mulai/", views.report_start, name="start"),
    path("laporan/<int:pk>/", views.report_detail, name="detail"),
    path("laporan/<int:pk>/ubah/", views.report_edit, name="edit"),
    path("laporan/<int:pk>/kecualikan/", views.report_excuse, name="excuse"),
    path("laporan/<int:pk>/kirim/", views.report_submit, name="submit"),
    path("laporan/<int:pk>/terima/", views.report_receive, name="receive"),
    path("laporan/<int:pk>/verifikasi/", views.report_verify, name="verify"),
    path("laporan/<int:pk>/teruskan/", views.report_forward, name="forward"),
    path("laporan/<int:pk>/kembalikan/", views.report_return, name="return"),
    path("laporan/<int:pk>/turunkan/", views.report_pass_down, name="pass_down"),
    path("laporan/<int:pk>/setujui/", views.report_approve, name="approve"),
    path("laporan/<int:pk>/versi/", views.report_versions, name="versions"),
    path("laporan/<int:pk>/pdf/", views.report_pdf, name="report_pdf"),
    path("lokus/<int:pk>/surat-tugas/", views.surat_tugas_pdf, name="surat_tugas"),
    path("berita-acara/<int:pk>/pdf/", views.berita_acara_pdf, name="berita_acara_pdf"),
    path("verifikasi/<str:code>/", views.verify_document, name="verify_document"),
    path("unduhan/", views.download_log, name="downloads"),
]
