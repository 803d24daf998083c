from django.db import models
from django.utils.translation import gettext_lazy as _


class PlanCategory(models.TextChoices):
    DEMONSTRATION = "demonstration", _("Demonstration (unjuk rasa)")
    RELIGIOUS = "religious", _("Religious event")
    POLITICAL = "political", _("Political event / campaign")
    ORMAS = "ormas", _("Mass-organisation (ormas) event")
    COMMUNITY = "community", _("Community / cultural event")
    OTHER = "other", _("Other")


class PlanStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    CHOSEN = "chosen", _("Chosen as lokus")
    NOT_CHOSEN = "not_chosen", _("Not chosen")


class LokusState(models.TextChoices):
    COMPOSING = "composing", _("Composing the team")
    DISPATCHED = "dispatched", _("Dispatched to the team")
    RUNNING = "running", _("In the field")
    FIELD_DONE = "field_done", _("Field work done")


class AssignmentState(models.TextChoices):
    ASSIGNED = "assigned", _("Assigned, awaiting confirmation")
    CONFIRMED = "confirmed", _("Confirmed (Siap)")
    CHECKED_IN = "checked_in", _("Started in the field")
    REPORTED = "reported", _("Report submitted")


class RiskLevel(models.TextChoices):
    LOW = "rendah", _("Low (rendah)")
    MEDIUM = "sedang", _("Medium (sedang)")
    HIGH = "tinggi", _("High (tinggi)")


class Situation(models.TextChoices):
    KONDUSIF = "kondusif", _("Kondusif (calm)")
    WASPADA = "waspada", _("Waspada (alert)")
    RAWAN = "rawan", _("Rawan (volatile)")


class MediaKind(models.TextChoices):
    PHOTO = "photo", _("Photo")
    VIDEO = "video", _("Video")
    BERITA_ACARA = "berita_acara", _("Berita Acara scan")


class EscalationKind(models.TextChoices):
    ESCALATION = "eskalasi", _("Escalation: situation worsening")
    WITHDRAWAL = "mundur", _("Withdrawal: team pulling out")


class Equipment(models.TextChoices):
    """The SOP's equipment list (Peralatan/Perlengkapan)."""

    SMARTPHONE = "smartphone", _("Smartphone with enough mobile data")
    HANDY_TALKIE = "ht", _("Handy talkie (HT)")
    NOTEBOOK = "notebook", _("Stationery and field notebook")
    LAPTOP = "laptop", _("Laptop / tablet for data entry")
    CAMERA = "camera", _("Camera / video recorder")
    BA_FORMS = "ba_forms", _("Berita Acara / incident report forms")
    ID_CARD = "id_card", _("ID card / official Surat Tugas")


class AuditAction(models.TextChoices):
    PLAN_SUBMITTED = "plan_submitted", _("Activity plan submitted")
    PLAN_CHOSEN = "plan_chosen", _("Chosen as lokus")
    PLAN_NOT_CHOSEN = "plan_not_chosen", _("Marked not chosen")
    LOKUS_UPDATED = "lokus_updated", _("Lokus details updated")
    TEAM_SET = "team_set", _("Team composed")
    DISPATCHED = "dispatched", _("Dispatched to the team")
    CONFIRMED = "confirmed", _("Assignment confirmed (Siap)")
    RISK_RECORDED = "risk_recorded", _("Risk mapping recorded")
    CHECKED_IN = "checked_in", _("Started in the field (Mulai)")
    FIELD_STARTED = "field_started", _("Field work started")
    NOTE_ADDED = "note_added", _("Field note added")
    MEDIA_UPLOADED = "media_uploaded", _("File uploaded")
    MEMBER_REPORTED = "member_reported", _("Member report submitted")
    ESCALATED = "escalated", _("Escalation / withdrawal raised")
    BERITA_ACARA = "berita_acara", _("Berita Acara recorded")
    FIELD_DONE = "field_done", _("Field work completed")


class SubmissionKind(models.TextChoices):
    """The field actions the phone's outbox may send (lokus.FieldSubmission)."""

    CONFIRM = "confirm", _("Assignment confirmed (Siap)")
    RISK = "risk", _("Risk mapping recorded")
    CHECK_IN = "check_in", _("Started in the field (Mulai)")
    NOTE = "note", _("Field note added")
    MEDIA = "media", _("File uploaded")
    BERITA_ACARA = "berita_acara", _("Berita Acara recorded")
    MEMBER_REPORT = "member_report", _("Member report submitted")
    ESCALATION = "escalation", _("Escalation / withdrawal raised")
