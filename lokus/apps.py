from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LokusConfig(AppConfig):
    name = "lokus"
    verbose_name = _("Special locations (Lokus)")
