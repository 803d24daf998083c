from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Activity reports")

    def ready(self) -> None:
        from accounts.roles import extend_role_permissions
        from core.navigation import NavItem, register
        from lokus import hooks, panels
        from reports import permissions, selectors
        from reports.roles import ROLE_PERMISSIONS

        extend_role_permissions(ROLE_PERMISSIONS)
        panels.register(selectors.lokus_report_panel)
        hooks.register_report_lookup(selectors.lokus_with_report)
        register(
            NavItem(
                _("Activity reports"),
                _("Team reports through Kasubbid, Kabid Kesbang and Kepala Badan (steps 6-15)."),
                "reports:list",
                permissions.may_list_reports,
            )
        )
        register(
            NavItem(
                _("Document downloads"),
                _("Who downloaded which Surat Tugas, Berita Acara and report, and when."),
                "reports:downloads",
                permissions.may_view_download_log,
            )
        )
