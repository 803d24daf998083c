from django.db import models
from django.utils.translation import gettext_lazy as _


class Kecamatan(models.Model):
    """A district (kecamatan) of Kota Tangerang, with its Kemendagri code."""

    code = models.CharField(_("code"), max_length=8, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("kecamatan")
        verbose_name_plural = _("kecamatan")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Kelurahan(models.Model):
    """A village-level area (kelurahan) inside a kecamatan."""

    code = models.CharField(_("code"), max_length=13, unique=True)
    name = models.CharField(_("name"), max_length=100)
    kecamatan = models.ForeignKey(
        Kecamatan, verbose_name=_("kecamatan"), on_delete=models.PROTECT, related_name="kelurahan"
    )

    class Meta:
        verbose_name = _("kelurahan")
        verbose_name_plural = _("kelurahan")
        ordering = ["kecamatan__name", "name"]

    def __str__(self) -> str:
        return self.name
