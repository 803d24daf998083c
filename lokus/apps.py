from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LokusConfig(AppConfig):
    name = "lokus"
    verbose_name = _("Special locations (Lokus)")

    def ready(self) -> None:
        from accounts.roles import extend_role_permissions
        from lokus.navigation import register_items
        from lokus.roles import ROLE_PERMISSIONS

        extend_role_permissions(ROLE_PERMISSIONS)
        register_items()
