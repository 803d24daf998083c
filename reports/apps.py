from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Activity reports")

    def ready(self) -> None:
        from accounts.navigation import NavItem, register
        from reports.permissions import may_list_reports

        register(
            NavItem(
                _("Activity reports"),
                _("Team reports through Kasubbid, Kabid Kesbang and Kepala Badan (steps 6-15)."),
                "reports:list",
                may_list_reports,
            )
        )
        register(
            NavItem(
                _("Document downloads"),
                _("Who downloaded which Surat Tugas, Berita Acara and report, and when."),
                "reports:downloads",
                lambda user: user.has_perm("reports.view_download_log"),
            )
        )
