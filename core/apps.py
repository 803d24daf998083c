from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """Shared plumbing: errors, base models, view helpers, PDF/QR and image helpers, the
    menu registry, the access log. Imports no other project app (checked by import-linter)."""

    name = "core"
    verbose_name = _("Shared plumbing")
