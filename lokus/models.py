import uuid
from datetime import datetime, timedelta
from pathlib import PurePath
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from core.enums import Classification
from core.models import AppendOnlyModel, StateModelMixin
from core.validators import in_range, sane_datetime
from lokus import permissions
from lokus.enums import (
    AssignmentState,
    AuditAction,
    EscalationKind,
    LokusState,
    MediaKind,
    PlanCategory,
    PlanStatus,
    RiskLevel,
    Situation,
    SubmissionKind,
)


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


class StepStandard(models.Model):
    """Mutu Baku: the SOP's required input, standard time and output of one step."""

    number = models.PositiveSmallIntegerField(
        _("step"), unique=True, validators=[MinValueValidator(1), MaxValueValidator(15)]
    )
    activity = models.CharField(_("activity"), max_length=200)
    actor = models.CharField(_("actor"), max_length=120)
    required_input = models.CharField(_("required input (kelengkapan)"), max_length=200)
    minutes = models.PositiveIntegerField(_("standard time (minutes)"), validators=[MinValueValidator(1)])
    output = models.CharField(_("output"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("step standard (Mutu Baku)")
        verbose_name_plural = _("step standards (Mutu Baku)")
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.number}. {self.activity}"

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.minutes)


def latitude_field() -> models.DecimalField:
    """An optional WGS84 latitude, to the metre."""
    return models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )


def longitude_field() -> models.DecimalField:
    return models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )


def entered_datetime(verbose_name, **kwargs) -> models.DateTimeField:
    """A date and time a person types in: refused outside the sane range
    (core/validators.py) by every form, service and the admin, with a message naming it."""
    return models.DateTimeField(verbose_name, validators=[sane_datetime(verbose_name)], **kwargs)


# An action that reaches the server more than this after the officer did it (kept in the
# phone's outbox while there was no signal) is shown as arrived late: "tiba 14:20".
LATE_ARRIVAL = timedelta(minutes=5)


def arrived_late(captured_at: datetime | None, received_at: datetime | None) -> bool:
    """Whether an action reached the server more than LATE_ARRIVAL after it was done."""
    return bool(captured_at and received_at and received_at - captured_at > LATE_ARRIVAL)


def received_field() -> models.DateTimeField:
    """When the server received a field action. The action's own time field holds when the
    officer did it (the captured time): the same moment for a normal post, earlier for one
    the phone's outbox sent later (lokus/submissions.py)."""
    return models.DateTimeField(_("received at"), default=timezone.now)


class ArrivalMixin:
    """A field record whose ``captured_field`` holds when the officer did it and whose
    ``received_at`` holds when the server got it."""

    captured_field = "created_at"

    @property
    def arrived_late(self) -> bool:
        return arrived_late(getattr(self, self.captured_field), self.received_at)


def _random_name(folder: str, filename: str) -> str:
    """Random, unguessable stored names; the original name is kept in the database only."""
    suffix = PurePath(filename).suffix.lower()[:10]
    return f"{folder}/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{suffix}"


def plan_upload_path(instance, filename: str) -> str:
    return _random_name("plans", filename)


def field_upload_path(instance, filename: str) -> str:
    return _random_name("field", filename)


class ActivityPlan(StateModelMixin, models.Model):
    """Rencana Kegiatan: a planned activity reported by a partner (SOP step 1)."""

    title = models.CharField(_("activity title"), max_length=200)
    category = models.CharField(_("category"), max_length=20, choices=PlanCategory.choices)
    description = models.TextField(_("description"))
    organiser = models.CharField(_("organiser"), max_length=200)
    organiser_contact = models.CharField(_("organiser contact"), max_length=200, blank=True)
    expected_participants = models.PositiveIntegerField(
        _("expected participants"), validators=[MaxValueValidator(10_000_000)]
    )
    starts_at = entered_datetime(_("starts at"))
    ends_at = entered_datetime(_("ends at"))
    address = models.CharField(_("address"), max_length=300)
    kecamatan = models.ForeignKey(Kecamatan, verbose_name=_("kecamatan"), on_delete=models.PROTECT)
    kelurahan = models.ForeignKey(Kelurahan, verbose_name=_("kelurahan"), on_delete=models.PROTECT)
    latitude = latitude_field()
    longitude = longitude_field()
    source_agency = models.ForeignKey(
        "accounts.Agency", verbose_name=_("source agency"), on_delete=models.PROTECT, null=True, blank=True
    )
    source_name = models.CharField(
        _("source (person or group)"),
        max_length=200,
        blank=True,
        help_text=_("Who gave the information, when it is not a partner agency (e.g. a member of the public)."),
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="submitted_plans",
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    status = FSMField(_("status"), default=PlanStatus.RECEIVED, choices=PlanStatus.choices, protected=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decided_plans",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)

    # What whoever reports the plan fills in (step 1): the plan form's fields, and all that
    # ``services.plan_submit`` takes from its data.
    STEP1_FIELDS = (
        "title",
        "category",
        "description",
        "organiser",
        "organiser_contact",
        "expected_participants",
        "starts_at",
        "ends_at",
        "address",
        "kecamatan",
        "kelurahan",
        "latitude",
        "longitude",
    )

    class Meta:
        verbose_name = _("activity plan")
        verbose_name_plural = _("activity plans")
        ordering = ["starts_at", "pk"]
        permissions = [("decide_activityplan", "Can choose a plan as lokus or mark it not chosen")]
        indexes = [
            models.Index(fields=["status", "starts_at"]),
            models.Index(fields=["starts_at", "ends_at"]),
            # The Kasubbid's plans to decide, longest waiting first (the home queue and its list).
            models.Index(fields=["status", "submitted_at", "id"], name="plan_waiting"),
            # A partner's own plans, newest first (the home page's latest plans).
            models.Index(fields=["submitted_by", "-submitted_at"], name="plan_submitter_latest"),
            # The plans received in a period, counted by month, category, kecamatan and status
            # (monev.metrics.intake): read from the index alone (key columns: SQLite has no INCLUDE).
            models.Index(fields=["submitted_at", "category", "kecamatan_id", "status"], name="plan_received"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="plan_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        errors = {}
        if in_range(self.starts_at) and in_range(self.ends_at) and self.ends_at <= self.starts_at:
            errors["ends_at"] = _("The end must be after the start.")
        if self.kelurahan_id and self.kecamatan_id and self.kelurahan.kecamatan_id != self.kecamatan_id:
            errors["kelurahan"] = _("This kelurahan is not in the chosen kecamatan.")
        if errors:
            raise ValidationError(errors)

    @transition(
        field=status,
        source=PlanStatus.RECEIVED,
        target=PlanStatus.CHOSEN,
        permission=lambda plan, user: permissions.can_decide_plan(user, plan),
    )
    def choose(self, by, at: datetime) -> None:
        self.decided_by, self.decided_at = by, at

    @transition(
        field=status,
        source=PlanStatus.RECEIVED,
        target=PlanStatus.NOT_CHOSEN,
        permission=lambda plan, user: permissions.can_decide_plan(user, plan),
    )
    def mark_not_chosen(self, by, at: datetime, reason: str) -> None:
        self.decided_by, self.decided_at, self.decision_reason = by, at, reason


class PlanAttachment(models.Model):
    """A file sent with a plan, such as the organiser's notification letter."""

    plan = models.ForeignKey(ActivityPlan, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(_("file"), upload_to=plan_upload_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("plan attachment")
        verbose_name_plural = _("plan attachments")
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


# The team meets shortly before the activity: a meeting time further ahead is a typing error.
ASSEMBLY_LEAD = timedelta(days=2)


class Lokus(StateModelMixin, models.Model):
    """Lokasi Khusus: a plan picked for special monitoring by a mitigation team (steps 2-5)."""

    plan = models.OneToOneField(ActivityPlan, verbose_name=_("activity plan"), on_delete=models.PROTECT)
    sub_division = models.ForeignKey(
        "accounts.SubDivision", verbose_name=_("sub-division"), on_delete=models.PROTECT, related_name="lokus"
    )
    problem = models.TextField(_("problem (masalah yang terjadi)"), blank=True)
    location = models.CharField(_("location"), max_length=300)
    latitude = latitude_field()
    longitude = longitude_field()
    assembly_point = models.CharField(_("assembly point (titik kumpul)"), max_length=300, blank=True)
    assembly_at = entered_datetime(_("meeting time"), null=True, blank=True)
    starts_at = entered_datetime(_("schedule start"))
    ends_at = entered_datetime(_("schedule end"))
    risk_level = models.CharField(_("risk level"), max_length=10, choices=RiskLevel.choices, default=RiskLevel.MEDIUM)
    classification = models.CharField(
        _("classification"), max_length=10, choices=Classification.choices, default=Classification.TERBATAS
    )
    surat_tugas_number = models.CharField(_("Surat Tugas number"), max_length=100, blank=True)
    verification_code = models.CharField(_("verification code"), max_length=16, blank=True, db_index=True)
    state = FSMField(_("state"), default=LokusState.COMPOSING, choices=LokusState.choices, protected=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("chosen at"), default=timezone.now)
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    field_started_at = models.DateTimeField(_("field work started at"), null=True, blank=True)
    field_done_at = models.DateTimeField(_("field work completed at"), null=True, blank=True)

    # What the Kasubbid sets in step 3: the lokus form's fields, and all that
    # ``services.lokus_update`` takes from its data.
    STEP3_FIELDS = (
        "problem",
        "location",
        "latitude",
        "longitude",
        "assembly_point",
        "assembly_at",
        "starts_at",
        "ends_at",
        "risk_level",
        "classification",
        "surat_tugas_number",
    )

    class Meta:
        verbose_name = _("lokus")
        verbose_name_plural = _("lokus")
        ordering = ["starts_at", "pk"]
        permissions = [
            ("dispatch_lokus", "Can compose and dispatch the team of a lokus of own sub-division"),
            ("view_all_lokus", "Can see every lokus (leadership)"),
            ("coordinate_lokus", "Is the field coordinator of this lokus (object permission)"),
        ]
        indexes = [
            models.Index(fields=["state", "starts_at"]),
            models.Index(fields=["starts_at", "ends_at"]),
            # The lokus list, newest first, a page at a time.
            models.Index(fields=["-starts_at", "-id"], name="lokus_newest_first"),
            # Lokus chosen within a period, latest first (the monitoring map and its filters).
            models.Index(fields=["-created_at", "-id"], name="lokus_chosen_latest"),
            # A member's assignment list orders their hundreds of assignments by the lokus's
            # start: read from this index alone (PostgreSQL), not a heap page per lokus.
            models.Index(fields=["id"], include=["starts_at"], name="lokus_id_starts"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["surat_tugas_number"], condition=~Q(surat_tugas_number=""), name="lokus_surat_tugas_unique"
            ),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="lokus_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.plan.title if self.plan_id else str(self.pk)

    def clean(self) -> None:
        errors = {}
        starts_at, ends_at, assembly_at = (
            value if in_range(value) else None for value in (self.starts_at, self.ends_at, self.assembly_at)
        )
        if starts_at and ends_at and ends_at <= starts_at:
            errors["ends_at"] = _("The end must be after the start.")
        if assembly_at and ends_at and assembly_at >= ends_at:
            errors["assembly_at"] = _("The meeting time must be before the end of the schedule.")
        elif assembly_at and starts_at and assembly_at < starts_at - ASSEMBLY_LEAD:
            errors["assembly_at"] = _("The meeting time can be at most two days before the schedule start.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_composing(self) -> bool:
        """Step 3 until the dispatch: the lokus and its team can still be changed."""
        return self.state == LokusState.COMPOSING

    @property
    def takes_risk_mapping(self) -> bool:
        """The Korlap records (and may revise) the risk mapping until field work starts."""
        return self.state == LokusState.DISPATCHED

    @property
    def in_progress(self) -> bool:
        """Dispatched and not yet done in the field: the team can escalate (Eskalasi / Mundur)."""
        return self.state in (LokusState.DISPATCHED, LokusState.RUNNING)

    @property
    def takes_berita_acara(self) -> bool:
        """A Berita Acara is recorded from the dispatch on."""
        return self.state in (LokusState.DISPATCHED, LokusState.RUNNING, LokusState.FIELD_DONE)

    def missing_for_dispatch(self) -> list[str]:
        """What the lokus's own fields still lack before it can be dispatched."""
        missing = []
        if not self.problem.strip():
            missing.append(str(_("the problem (masalah yang terjadi)")))
        if not self.assembly_point.strip():
            missing.append(str(_("the assembly point (titik kumpul)")))
        if not self.assembly_at:
            missing.append(str(_("the meeting time")))
        if not self.surat_tugas_number.strip():
            missing.append(str(_("the Surat Tugas number")))
        return missing

    @transition(
        field=state,
        source=LokusState.COMPOSING,
        target=LokusState.DISPATCHED,
        conditions=[lambda lokus: not lokus.missing_for_dispatch()],
        permission=lambda lokus, user: permissions.can_manage_lokus(user, lokus),
    )
    def dispatch(self, by, at: datetime) -> None:
        self.dispatched_by, self.dispatched_at = by, at

    @transition(field=state, source=LokusState.DISPATCHED, target=LokusState.RUNNING)
    def start_field_work(self, at: datetime) -> None:
        self.field_started_at = at

    @transition(field=state, source=LokusState.RUNNING, target=LokusState.FIELD_DONE)
    def complete_field_work(self, at: datetime) -> None:
        self.field_done_at = at

    def map_url(self) -> str:
        """A link that opens the phone's map app (Android and iOS both hand it over)."""
        if self.latitude is not None and self.longitude is not None:
            return f"https://www.google.com/maps/search/?api=1&query={self.latitude},{self.longitude}"
        return f"https://www.google.com/maps/search/?api=1&query={quote(self.location)}"


class LokusUserObjectPermission(UserObjectPermissionBase):
    """django-guardian object permissions on a lokus, with a real foreign key so that they
    are deleted with the lokus and joined cheaply."""

    content_object = models.ForeignKey(Lokus, on_delete=models.CASCADE)


class LokusGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Lokus, on_delete=models.CASCADE)


class Assignment(StateModelMixin, models.Model):
    """One officer on one lokus team (Anggota Mitigasi), possibly its coordinator.

    ``confirmed_at``, ``checked_in_at`` and ``reported_at`` are when the officer did it (the
    captured time, from the phone's outbox when sent later); ``confirmed_received_at`` and
    ``checked_in_received_at`` when the server received it (the report's arrival is
    ``MemberReport.received_at``)."""

    lokus = models.ForeignKey(Lokus, on_delete=models.CASCADE, related_name="assignments")
    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("member"), on_delete=models.PROTECT, related_name="assignments"
    )
    is_coordinator = models.BooleanField(_("field coordinator (Korlap)"), default=False)
    state = FSMField(_("state"), default=AssignmentState.ASSIGNED, choices=AssignmentState.choices, protected=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    confirmed_received_at = models.DateTimeField(_("confirmation received at"), null=True, blank=True)
    equipment = models.JSONField(_("equipment checked"), default=list, blank=True)
    checked_in_at = models.DateTimeField(_("started at"), null=True, blank=True)
    checked_in_received_at = models.DateTimeField(_("start received at"), null=True, blank=True)
    checkin_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    checkin_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    reported_at = models.DateTimeField(_("report submitted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("team assignment")
        verbose_name_plural = _("team assignments")
        ordering = ["-is_coordinator", "member__full_name"]
        indexes = [
            # A member's own assignments by state: the open ones of the home queue, and the
            # assignment list's order, read from the index alone (PostgreSQL: the lokus and
            # the id are included), not a heap page per assignment.
            models.Index(fields=["member", "state"], include=["lokus", "id"], name="assignment_member_list"),
            # The teams with members yet to confirm (step 4): few rows, read on the Kasubbid's home.
            models.Index(fields=["lokus"], condition=Q(state=AssignmentState.ASSIGNED), name="assignment_unconfirmed"),
            # The lokus a member coordinates (the Korlap's "compile the team report" queue).
            models.Index(fields=["member"], condition=Q(is_coordinator=True), name="assignment_korlap_member"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["lokus", "member"], name="assignment_member_once"),
            models.UniqueConstraint(fields=["lokus"], condition=Q(is_coordinator=True), name="assignment_one_korlap"),
        ]

    def __str__(self) -> str:
        return f"{self.member} @ {self.lokus_id}"

    @property
    def in_the_field(self) -> bool:
        """Started ("Mulai") and not yet reported: notes, files and the own report go in."""
        return self.state == AssignmentState.CHECKED_IN

    @property
    def confirmation_arrived_late(self) -> bool:
        return arrived_late(self.confirmed_at, self.confirmed_received_at)

    @property
    def check_in_arrived_late(self) -> bool:
        return arrived_late(self.checked_in_at, self.checked_in_received_at)

    @transition(
        field=state,
        source=AssignmentState.ASSIGNED,
        target=AssignmentState.CONFIRMED,
        permission=lambda assignment, user: permissions.is_own_assignment(user, assignment),
    )
    def confirm(self, at: datetime, equipment: list[str], received_at: datetime | None = None) -> None:
        self.confirmed_at, self.confirmed_received_at, self.equipment = at, received_at or at, equipment

    @transition(
        field=state,
        source=AssignmentState.CONFIRMED,
        target=AssignmentState.CHECKED_IN,
        permission=lambda assignment, user: permissions.is_own_assignment(user, assignment),
    )
    def check_in(self, at: datetime, latitude=None, longitude=None, received_at: datetime | None = None) -> None:
        self.checked_in_at, self.checked_in_received_at = at, received_at or at
        self.checkin_latitude, self.checkin_longitude = latitude, longitude

    @transition(
        field=state,
        source=AssignmentState.CHECKED_IN,
        target=AssignmentState.REPORTED,
        permission=lambda assignment, user: permissions.is_own_assignment(user, assignment),
    )
    def submit_report(self, at: datetime) -> None:
        self.reported_at = at


class RiskAssessment(ArrivalMixin, models.Model):
    """Pemetaan risiko: recorded by the coordinator before the team enters the location.
    ``recorded_at`` is when the coordinator recorded it (the captured time), ``received_at``
    when the server received it."""

    captured_field = "recorded_at"

    lokus = models.OneToOneField(Lokus, on_delete=models.CASCADE, related_name="risk_assessment")
    threats = models.TextField(_("threats and vulnerabilities"))
    access_routes = models.TextField(_("access routes"))
    exit_routes = models.TextField(_("exit / evacuation routes"))
    security_contact = models.CharField(_("nearest police / TNI contact"), max_length=300)
    go = models.BooleanField(_("go: safe to enter"))
    notes = models.TextField(_("notes"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    received_at = received_field()

    class Meta:
        verbose_name = _("risk mapping")
        verbose_name_plural = _("risk mappings")

    def __str__(self) -> str:
        return f"{self.lokus_id}: {'go' if self.go else 'no-go'}"


class FieldNote(ArrivalMixin, models.Model):
    """A time-stamped observation from a member in the field. ``created_at`` is when the
    member wrote it (the captured time), ``received_at`` when the server received it."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="notes")
    body = models.TextField(_("what happened"))
    crowd_estimate = models.PositiveIntegerField(
        _("estimated crowd size"), null=True, blank=True, validators=[MaxValueValidator(10_000_000)]
    )
    situation = models.CharField(_("situation"), max_length=10, choices=Situation.choices)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    received_at = received_field()

    class Meta:
        verbose_name = _("field note")
        verbose_name_plural = _("field notes")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.situation}"


class FieldMedia(ArrivalMixin, models.Model):
    """A photo, short video or Berita Acara scan taken in the field. Stored under a random
    name and served only through a view that checks access. ``created_at`` is when the member
    added it on the phone (the captured time), ``received_at`` when the server received it."""

    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="media")
    kind = models.CharField(_("kind"), max_length=20, choices=MediaKind.choices)
    file = models.FileField(_("file"), upload_to=field_upload_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    caption = models.CharField(_("caption"), max_length=300, blank=True)
    print_file = models.FileField(upload_to=field_upload_path, max_length=200, blank=True)
    # Photos: the small copy pages show (core.images.thumbnail_rendition); its size gives the
    # <img> its width and height, so a page of photos keeps its layout while they load.
    thumb_file = models.ImageField(
        upload_to=field_upload_path, max_length=200, blank=True, width_field="thumb_width", height_field="thumb_height"
    )
    thumb_width = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    thumb_height = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("time"), default=timezone.now)
    received_at = received_field()

    class Meta:
        verbose_name = _("field file")
        verbose_name_plural = _("field files")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.original_name


class MemberReport(ArrivalMixin, models.Model):
    """A member's own report of the lokus, submitted at the end of step 5. ``submitted_at``
    is when the member submitted it (the captured time), ``received_at`` when the server
    received it."""

    captured_field = "submitted_at"

    assignment = models.OneToOneField(Assignment, on_delete=models.PROTECT, related_name="report")
    summary = models.TextField(_("what I observed (facts)"))
    situation = models.CharField(_("final situation"), max_length=10, choices=Situation.choices)
    crowd_estimate = models.PositiveIntegerField(
        _("estimated crowd size"), null=True, blank=True, validators=[MaxValueValidator(10_000_000)]
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    received_at = received_field()

    class Meta:
        verbose_name = _("member report")
        verbose_name_plural = _("member reports")

    def __str__(self) -> str:
        return f"{self.assignment}"


class Escalation(ArrivalMixin, models.Model):
    """Eskalasi / Mundur: the SOP's withdrawal rule, raised from the field. ``raised_at`` is
    when the member raised it (the captured time), ``received_at`` when the server received
    it (and alerted the coordinator, the Kasubbid and the Kabid)."""

    captured_field = "raised_at"

    lokus = models.ForeignKey(Lokus, on_delete=models.PROTECT, related_name="escalations")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=EscalationKind.choices)
    message = models.CharField(_("short message"), max_length=500)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    raised_at = models.DateTimeField(default=timezone.now)
    received_at = received_field()

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["-raised_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.raised_at:%Y-%m-%d %H:%M}"


# How far ahead of now a Berita Acara may be dated.
BERITA_ACARA_AHEAD = timedelta(days=1)


class BeritaAcara(ArrivalMixin, models.Model):
    """Berita Acara: official minutes of a dialogue, agreement or incident in the field,
    entered as a structured form and rendered as an official document. Scans of the
    signed paper copy are uploaded beside it as field files. ``held_at`` is what the author
    typed; ``created_at`` is when they recorded it on the phone (the captured time),
    ``received_at`` when the server received it."""

    lokus = models.ForeignKey(Lokus, on_delete=models.PROTECT, related_name="berita_acara")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("subject"), max_length=200)
    place = models.CharField(_("place"), max_length=300)
    held_at = entered_datetime(_("date and time"))
    parties = models.JSONField(_("parties present"), default=list)
    discussion = models.TextField(_("what was discussed"))
    agreements = models.TextField(_("what was agreed"), blank=True)
    events = models.TextField(_("what happened"), blank=True)
    copies = models.PositiveSmallIntegerField(_("number of copies"), default=2, validators=[MaxValueValidator(20)])
    created_at = models.DateTimeField(default=timezone.now)
    received_at = received_field()

    class Meta:
        verbose_name = _("Berita Acara")
        verbose_name_plural = _("Berita Acara")
        ordering = ["held_at", "pk"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        # Minutes of what the team saw: not before the day the lokus was chosen, and not more
        # than BERITA_ACARA_AHEAD ahead of now (a phone's clock may be a little off).
        if not (self.lokus_id and in_range(self.held_at)):
            return
        chosen = timezone.localtime(self.lokus.created_at).replace(hour=0, minute=0, second=0, microsecond=0)
        if self.held_at < chosen:
            raise ValidationError(
                {
                    "held_at": ValidationError(
                        _("The Berita Acara cannot be dated before the day the lokus was chosen (%(date)s)."),
                        code="before_lokus",
                        params={"date": formats.date_format(chosen, "j F Y")},
                    )
                }
            )
        if self.held_at > timezone.now() + BERITA_ACARA_AHEAD:
            raise ValidationError(
                {"held_at": ValidationError(_("The Berita Acara cannot be dated more than a day ahead."), code="ahead")}
            )


class FieldSubmission(models.Model):
    """One field action sent from a phone's outbox, known by the UUID the phone gave it when
    the officer did it. Written in the action's own transaction (lokus/submissions.py), so that
    a resend of the same UUID (an earlier send whose answer was lost) is answered "replayed"
    and creates nothing twice. Holds no field content: ``object_id`` names the row the action
    made or changed, of the model its ``kind`` stands for (``result``)."""

    client_uuid = models.UUIDField(unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=20, choices=SubmissionKind.choices)
    lokus = models.ForeignKey(Lokus, on_delete=models.PROTECT, related_name="+")
    # Set in the same transaction, once the action made its row (the UUID is claimed first).
    object_id = models.PositiveBigIntegerField(null=True)
    captured_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("field submission")
        verbose_name_plural = _("field submissions")

    def __str__(self) -> str:
        return f"{self.kind} {self.client_uuid}"

    def result(self) -> models.Model:
        """The row the action made or changed."""
        model = {
            SubmissionKind.CONFIRM: Assignment,
            SubmissionKind.CHECK_IN: Assignment,
            SubmissionKind.RISK: RiskAssessment,
            SubmissionKind.NOTE: FieldNote,
            SubmissionKind.MEDIA: FieldMedia,
            SubmissionKind.BERITA_ACARA: BeritaAcara,
            SubmissionKind.MEMBER_REPORT: MemberReport,
            SubmissionKind.ESCALATION: Escalation,
        }[self.kind]
        return model.objects.get(pk=self.object_id)


class AuditEntry(AppendOnlyModel):
    """One line of the append-only audit log shown as the lokus/plan timeline."""

    plan = models.ForeignKey(ActivityPlan, on_delete=models.PROTECT, related_name="audit_entries")
    lokus = models.ForeignKey(Lokus, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_entries")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=30, choices=AuditAction.choices)
    from_state = models.CharField(max_length=30, blank=True)
    to_state = models.CharField(max_length=30, blank=True)
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"

    @staticmethod
    def _label(state: str) -> str:
        for choices in (PlanStatus, LokusState, AssignmentState):
            if state in choices.values:
                return choices(state).label
        return state

    def from_label(self) -> str:
        return self._label(self.from_state)

    def to_label(self) -> str:
        return self._label(self.to_state)
