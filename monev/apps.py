from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonevConfig(AppConfig):
    """Monitoring and evaluation: SOP compliance figures, the map, overdue escalation, exports."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "monev"
    verbose_name = _("monitoring and evaluation")

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from core.navigation import NavItem, register
        from monev import occurrences, permissions

        # The stored step occurrences follow every saved or deleted row they come from.
        for model in occurrences.SOURCES:
            post_save.connect(occurrences.changed, sender=model, dispatch_uid=f"monev-occ-save-{model.__name__}")
            post_delete.connect(occurrences.changed, sender=model, dispatch_uid=f"monev-occ-delete-{model.__name__}")
        # An edited Mutu Baku measures the stored occurrences anew, in the same transaction.
        from lokus.models import StepStandard

        post_save.connect(occurrences.standard_changed, sender=StepStandard, dispatch_uid="monev-occ-standard-save")
        post_delete.connect(occurrences.standard_changed, sender=StepStandard, dispatch_uid="monev-occ-standard-delete")

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
