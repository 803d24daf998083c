from django.db import models
from django.utils.translation import gettext_lazy as _


class Classification(models.TextChoices):
    """The confidentiality mark of a lokus, a report or a document (the SOP's data
    confidentiality rule). Terbatas and Rahasia objects are access-logged and stamped."""

    BIASA = "biasa", _("Biasa (ordinary)")
    TERBATAS = "terbatas", _("Terbatas (restricted)")
    RAHASIA = "rahasia", _("Rahasia (secret)")


# Views and downloads of these are recorded in the access log.
LOGGED_CLASSIFICATIONS = frozenset({Classification.TERBATAS, Classification.RAHASIA})
