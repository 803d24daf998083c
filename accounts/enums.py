from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The global roles of the SOP. The value is the Django group's name (data, not UI)."""

    PARTNER = "Jajaran Samping", _("Partner agency (Jajaran Samping)")
    KASUBBID = "Kasubbid", _("Sub-division head (Kasubbid)")
    MEMBER = "Anggota Mitigasi", _("Mitigation team member (Anggota Mitigasi)")
    KABID = "Kabid Kesbang", _("Head of Kesatuan Bangsa division (Kabid Kesbang)")
    KABAN = "Kepala Badan", _("Head of agency (Kepala Badan)")
    ADMIN = "Administrator", _("Administrator")


class AgencyKind(models.TextChoices):
    POLRI = "polri", _("Police (Polri)")
    TNI = "tni", _("Armed forces (TNI)")
    IMIGRASI = "imigrasi", _("Immigration (Imigrasi)")
    KEJAKSAAN = "kejaksaan", _("Prosecutor's office (Kejaksaan)")
    KELURAHAN = "kelurahan", _("Kelurahan office")
    KECAMATAN = "kecamatan", _("Kecamatan office")
    MASYARAKAT = "masyarakat", _("Public (Masyarakat)")
    OTHER = "other", _("Other")


class MailStatus(models.TextChoices):
    """Where an outgoing e-mail is: waiting for a worker (or its next attempt), handed to the
    mail server, or given up after the last retry (the administrator may send it again)."""

    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
