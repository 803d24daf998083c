from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonevConfig(AppConfig):
    """Monitoring and evaluation: SOP compliance figures, the map, overdue escalation, exports."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "monev"
    verbose_name = _("monitoring and evaluation")

    def ready(self) -> None:
        from core.navigation import NavItem, register
        from monev import permissions

        register(
            NavItem(
                _("Monitoring and evaluation"),
                _("SOP compliance: time per step against the Mutu Baku, breaches, intake and trends."),
                "monev:dashboard",
                permissions.may_view_monev,
            )
        )
        register(
            NavItem(
                _("Map of lokus and plans"),
                _("Where lokus and plans are, coloured by risk level, with the counts per kecamatan."),
                "monev:map",
                permissions.may_view_monev,
            )
        )
