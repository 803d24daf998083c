from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HomeConfig(AppConfig):
    """The top layer: the home page with every role's work queue, and the demo data. It may
    use every other app; no app imports it."""

    name = "home"
    verbose_name = _("Home")
