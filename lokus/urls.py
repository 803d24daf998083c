from django.urls import path

from lokus.views import field, lokus, plans, pwa

app_name = "lokus"

urlpatterns = [
    # Step 1-2: activity plans
    path("rencana/", plans.plan_list, name="plan_list"),
    path("rencana/baru/", plans.plan_create, name="plan_create"),
    path("rencana/kalender/", plans.plan_calendar, name="plan_calendar"),
    path("rencana/<int:pk>/", plans.plan_detail, name="plan_detail"),
    path("rencana/<int:pk>/pilih/", plans.plan_choose, name="plan_choose"),
    path("rencana/<int:pk>/tidak-dipilih/", plans.plan_not_chosen, name="plan_not_chosen"),
    path("rencana/lampiran/<int:pk>/", plans.plan_attachment, name="plan_attachment"),
    path("wilayah/kelurahan/", plans.kelurahan_options, name="kelurahan_options"),
    # Step 3: the lokus and its team
    path("lokus/", lokus.lokus_list, name="list"),
    path("lokus/<int:pk>/", lokus.lokus_detail, name="detail"),
    path("lokus/<int:pk>/ubah/", lokus.lokus_edit, name="edit"),
    path("lokus/<int:pk>/tim/", lokus.lokus_team, name="team"),
    path("lokus/<int:pk>/kirim/", lokus.lokus_dispatch, name="dispatch"),
    # Steps 4-5: the member's assignment, on a phone
    path("tugas/", field.assignment_list, name="assignments"),
    path("tugas/<int:pk>/", field.assignment_detail, name="assignment"),
    path("tugas/<int:pk>/siap/", field.assignment_confirm, name="confirm"),
    path("tugas/<int:pk>/risiko/", field.risk_assessment, name="risk"),
    path("tugas/<int:pk>/mulai/", field.check_in, name="check_in"),
    path("tugas/<int:pk>/catatan/", field.note_add, name="note_add"),
    path("tugas/<int:pk>/unggah/", field.media_add, name="media_add"),
    path("tugas/<int:pk>/laporan/", field.member_report, name="member_report"),
    path("tugas/<int:pk>/eskalasi/", field.escalate, name="escalate"),
    path("tugas/<int:pk>/berita-acara/", field.berita_acara_add, name="berita_acara_add"),
    path("berkas/<int:pk>/", field.media_file, name="media_file"),
    path("berkas/<int:pk>/kecil/", field.media_thumbnail, name="media_thumbnail"),
    path("log-akses/", lokus.access_log, name="access_log"),
    # The installable field app: the service worker (at the root, so that it controls
    # /tugas/), its offline page, and the outbox's session check.
    path("sw.js", pwa.service_worker, name="service_worker"),
    path("luring/", pwa.offline, name="offline"),
    path("luring/sesi/", pwa.session_state, name="pwa_session"),
]
