from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LokusConfig(AppConfig):
    name = "lokus"
    verbose_name = _("Special locations (Lokus)")

    def ready(self) -> None:
        from lokus.navigation import register_items

        register_items()
