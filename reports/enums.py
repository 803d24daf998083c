from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportState(models.TextChoices):
    """Where the team's report is in the chain Korlap -> Kasubbid -> Kabid -> Kepala Badan.

    At each level the report is received (terima), verified, then forwarded or returned;
    a return goes one level down; at the Kepala Badan the last step is approval."""

    DRAFT = "draft", _("Draft by the Korlap")
    RETURNED_TO_KORLAP = "returned_korlap", _("Returned to the Korlap for revision")
    AT_KASUBBID = "at_kasubbid", _("Sent to the Kasubbid")
    KASUBBID_RECEIVED = "kasubbid_received", _("Received by the Kasubbid")
    KASUBBID_VERIFIED = "kasubbid_verified", _("Verified by the Kasubbid")
    RETURNED_TO_KASUBBID = "returned_kasubbid", _("Returned to the Kasubbid")
    AT_KABID = "at_kabid", _("Sent to the Kabid Kesbang")
    KABID_RECEIVED = "kabid_received", _("Received by the Kabid Kesbang")
    KABID_VERIFIED = "kabid_verified", _("Verified by the Kabid Kesbang")
    RETURNED_TO_KABID = "returned_kabid", _("Returned to the Kabid Kesbang")
    AT_KABAN = "at_kaban", _("Sent to the Kepala Badan")
    KABAN_RECEIVED = "kaban_received", _("Received by the Kepala Badan")
    KABAN_VERIFIED = "kaban_verified", _("Verified by the Kepala Badan")
    APPROVED = "approved", _("Approved (final)")


class Level(models.TextChoices):
    """Who holds the report: the author and the three reviewing levels."""

    KORLAP = "korlap", _("Field coordinator (Korlap)")
    KASUBBID = "kasubbid", _("Kasubbid")
    KABID = "kabid", _("Kabid Kesbang")
    KABAN = "kaban", _("Kepala Badan")


class ReportAction(models.TextChoices):
    CREATED = "created", _("Report started")
    SAVED = "saved", _("Content saved (new version)")
    EXCUSED = "excused", _("Member excused")
    SUBMITTED = "submitted", _("Sent to the Kasubbid")
    RECEIVED = "received", _("Received")
    VERIFIED = "verified", _("Verified")
    FORWARDED = "forwarded", _("Forwarded")
    RETURNED = "returned", _("Returned for revision")
    PASSED_DOWN = "passed_down", _("Passed further down for revision")
    APPROVED = "approved", _("Approved")


# The holder of the report in each state.
HOLDER = {
    ReportState.DRAFT: Level.KORLAP,
    ReportState.RETURNED_TO_KORLAP: Level.KORLAP,
    ReportState.AT_KASUBBID: Level.KASUBBID,
    ReportState.KASUBBID_RECEIVED: Level.KASUBBID,
    ReportState.KASUBBID_VERIFIED: Level.KASUBBID,
    ReportState.RETURNED_TO_KASUBBID: Level.KASUBBID,
    ReportState.AT_KABID: Level.KABID,
    ReportState.KABID_RECEIVED: Level.KABID,
    ReportState.KABID_VERIFIED: Level.KABID,
    ReportState.RETURNED_TO_KABID: Level.KABID,
    ReportState.AT_KABAN: Level.KABAN,
    ReportState.KABAN_RECEIVED: Level.KABAN,
    ReportState.KABAN_VERIFIED: Level.KABAN,
}

# The SOP step whose time standard runs in each state (steps 6-15).
STEP_OF_STATE = {
    ReportState.DRAFT: 6,
    ReportState.RETURNED_TO_KORLAP: 6,
    ReportState.AT_KASUBBID: 7,
    ReportState.KASUBBID_RECEIVED: 8,
    ReportState.KASUBBID_VERIFIED: 9,
    ReportState.RETURNED_TO_KASUBBID: 9,
    ReportState.AT_KABID: 10,
    ReportState.KABID_RECEIVED: 11,
    ReportState.KABID_VERIFIED: 12,
    ReportState.RETURNED_TO_KABID: 12,
    ReportState.AT_KABAN: 13,
    ReportState.KABAN_RECEIVED: 14,
    ReportState.KABAN_VERIFIED: 15,
}

# The chain, written once: for each step, the state it moves the report to from each state
# in which it is open. The transitions of ActivityReport take their source and target from
# these maps, and reports.permissions reads from them who may ever take a step.
SUBMIT_STATE = {
    ReportState.DRAFT: ReportState.AT_KASUBBID,
    ReportState.RETURNED_TO_KORLAP: ReportState.AT_KASUBBID,
}
RECEIVED_STATE = {
    ReportState.AT_KASUBBID: ReportState.KASUBBID_RECEIVED,
    ReportState.AT_KABID: ReportState.KABID_RECEIVED,
    ReportState.AT_KABAN: ReportState.KABAN_RECEIVED,
}
VERIFIED_STATE = {
    ReportState.KASUBBID_RECEIVED: ReportState.KASUBBID_VERIFIED,
    ReportState.KABID_RECEIVED: ReportState.KABID_VERIFIED,
    ReportState.KABAN_RECEIVED: ReportState.KABAN_VERIFIED,
}
# Up one level, after verifying or after revising what came back.
FORWARD_STATE = {
    ReportState.KASUBBID_VERIFIED: ReportState.AT_KABID,
    ReportState.RETURNED_TO_KASUBBID: ReportState.AT_KABID,
    ReportState.KABID_VERIFIED: ReportState.AT_KABAN,
    ReportState.RETURNED_TO_KABID: ReportState.AT_KABAN,
}
# Down one level for revision, after verifying.
RETURN_STATE = {
    ReportState.KASUBBID_VERIFIED: ReportState.RETURNED_TO_KORLAP,
    ReportState.KABID_VERIFIED: ReportState.RETURNED_TO_KASUBBID,
    ReportState.KABAN_VERIFIED: ReportState.RETURNED_TO_KABID,
}
# Further down, by whoever got the report back, instead of revising it.
PASS_DOWN_STATE = {
    ReportState.RETURNED_TO_KASUBBID: ReportState.RETURNED_TO_KORLAP,
    ReportState.RETURNED_TO_KABID: ReportState.RETURNED_TO_KASUBBID,
}
APPROVE_STATE = {
    ReportState.KABAN_VERIFIED: ReportState.APPROVED,
}

# The steps of the chain by the name of their transition on ActivityReport.
STEPS = {
    "submit": SUBMIT_STATE,
    "receive": RECEIVED_STATE,
    "verify": VERIFIED_STATE,
    "forward": FORWARD_STATE,
    "return_for_revision": RETURN_STATE,
    "pass_down": PASS_DOWN_STATE,
    "approve": APPROVE_STATE,
}

# States in which the holder may change the content (a new version each time).
EDITABLE = {
    ReportState.DRAFT,
    ReportState.RETURNED_TO_KORLAP,
    ReportState.RETURNED_TO_KASUBBID,
    ReportState.RETURNED_TO_KABID,
}
