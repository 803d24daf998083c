from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import GET_STATE, FSMField, transition

from core.enums import Classification
from core.models import AppendOnlyModel, StateModelMixin
from lokus.enums import Situation
from lokus.models import Assignment, FieldMedia, Lokus
from reports import permissions
from reports.enums import (
    APPROVE_STATE,
    FORWARD_STATE,
    HOLDER,
    PASS_DOWN_STATE,
    RECEIVED_STATE,
    RETURN_STATE,
    SUBMIT_STATE,
    VERIFIED_STATE,
    Level,
    ReportAction,
    ReportState,
)

S = ReportState

# The standard format of the Laporan Hasil Kegiatan: raw field data turned into
# intelligence for the leadership. Facts and analysis are separate fields (the SOP wants
# factual, objective reports free of personal opinion).
CONTENT_FIELDS = [
    "basis",
    "time_place",
    "main_problem",
    "facts",
    "dialogue",
    "analysis",
    "outlook",
    "recommendations",
    "situation",
    "crowd_estimate",
    "classification",
]
REQUIRED_FOR_SENDING = ["basis", "time_place", "main_problem", "facts", "analysis", "recommendations", "situation"]


def _transitions_of(moves: dict) -> dict:
    """``source`` and ``target`` of a transition, from its map in ``reports.enums``."""
    targets = list(dict.fromkeys(moves.values()))
    if len(targets) == 1:
        return {"source": list(moves), "target": targets[0]}
    return {
        "source": list(moves),
        "target": GET_STATE(lambda report, *args, **kwargs: moves[report.state], states=targets),
    }


def _holder_acts(report: "ActivityReport", user) -> bool:
    """The transitions' ``permission=``: django-fsm passes the report first; the rule itself
    is ``reports.permissions.can_act`` (looked up when called, see that module's docstring)."""
    return permissions.can_act(user, report)


class ActivityReport(StateModelMixin, models.Model):
    """Laporan Hasil Kegiatan: the team's compiled report (SOP steps 6-15)."""

    lokus = models.OneToOneField(Lokus, verbose_name=_("lokus"), on_delete=models.PROTECT, related_name="report")
    basis = models.TextField(_("basis (dasar)"), blank=True)
    time_place = models.TextField(_("time and place"), blank=True)
    main_problem = models.TextField(_("main problem (pokok masalah)"), blank=True)
    facts = models.TextField(_("facts and chronology"), blank=True)
    dialogue = models.TextField(_("results of dialogue or mediation"), blank=True)
    analysis = models.TextField(_("analysis"), blank=True)
    outlook = models.TextField(_("outlook (perkiraan perkembangan)"), blank=True)
    recommendations = models.TextField(_("recommendations and follow-up"), blank=True)
    situation = models.CharField(_("situation status"), max_length=10, choices=Situation.choices, blank=True)
    crowd_estimate = models.PositiveIntegerField(
        _("crowd size"), null=True, blank=True, validators=[MaxValueValidator(10_000_000)]
    )
    classification = models.CharField(_("classification"), max_length=10, choices=Classification.choices)
    included_media = models.ManyToManyField(
        FieldMedia, verbose_name=_("photos and attachments included"), blank=True, related_name="reports"
    )
    state = FSMField(_("state"), default=S.DRAFT, choices=S.choices, protected=True)
    state_changed_at = models.DateTimeField(_("in this state since"), default=timezone.now)
    version = models.PositiveIntegerField(_("version"), default=0)
    revision_round = models.PositiveIntegerField(_("revision round"), default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    verification_code = models.CharField(_("verification code"), max_length=16, blank=True, db_index=True)

    class Meta:
        verbose_name = _("activity report")
        verbose_name_plural = _("activity reports")
        ordering = ["-state_changed_at", "-pk"]
        permissions = [
            ("review_as_kasubbid", "Can receive, verify, forward and return reports of own sub-division"),
            ("review_as_kabid", "Can receive, verify, forward and return reports as Kabid Kesbang"),
            ("review_as_kaban", "Can receive, verify, return and approve reports as Kepala Badan"),
        ]
        indexes = [
            models.Index(fields=["state", "state_changed_at"]),
            # The report list, latest move first, a page at a time.
            models.Index(fields=["-state_changed_at", "-id"], name="report_latest_move"),
        ]

    def __str__(self) -> str:
        return str(self.lokus)

    @property
    def holder_level(self) -> Level | None:
        return HOLDER.get(self.state)

    def content(self) -> dict:
        return {field: getattr(self, field) for field in CONTENT_FIELDS}

    def missing_sections(self) -> list[str]:
        return [
            str(self._meta.get_field(field).verbose_name)
            for field in REQUIRED_FOR_SENDING
            if getattr(self, field) in ("", None)
            or (isinstance(getattr(self, field), str) and not getattr(self, field).strip())
        ]

    def _moved(self, at) -> None:
        self.state_changed_at = at

    @transition(field=state, **_transitions_of(SUBMIT_STATE), permission=_holder_acts)
    def submit(self, at) -> None:
        self._moved(at)

    @transition(field=state, **_transitions_of(RECEIVED_STATE), permission=_holder_acts)
    def receive(self, at) -> None:
        self._moved(at)

    @transition(field=state, **_transitions_of(VERIFIED_STATE), permission=_holder_acts)
    def verify(self, at) -> None:
        self._moved(at)

    @transition(field=state, **_transitions_of(FORWARD_STATE), permission=_holder_acts)
    def forward(self, at) -> None:
        self._moved(at)

    @transition(field=state, **_transitions_of(RETURN_STATE), permission=_holder_acts)
    def return_for_revision(self, at) -> None:
        self._moved(at)
        self.revision_round += 1

    @transition(field=state, **_transitions_of(PASS_DOWN_STATE), permission=_holder_acts)
    def pass_down(self, at) -> None:
        self._moved(at)

    @transition(field=state, **_transitions_of(APPROVE_STATE), permission=_holder_acts)
    def approve(self, at) -> None:
        self._moved(at)
        self.approved_at = at


class ReportVersion(AppendOnlyModel):
    """An immutable copy of the report's content, kept every time the content changes."""

    report = models.ForeignKey(ActivityReport, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    revision_round = models.PositiveIntegerField(_("revision round"))
    content = models.JSONField()
    media_ids = models.JSONField(default=list)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("report version")
        verbose_name_plural = _("report versions")
        ordering = ["report", "number"]
        constraints = [models.UniqueConstraint(fields=["report", "number"], name="report_version_once")]

    def __str__(self) -> str:
        return f"{self.report_id} v{self.number}"


class ReportExcuse(models.Model):
    """A team member whose own report the Korlap explicitly excused, with the reason."""

    report = models.ForeignKey(ActivityReport, on_delete=models.PROTECT, related_name="excuses")
    assignment = models.ForeignKey(Assignment, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("reason"), max_length=500)
    excused_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    excused_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("excused member")
        verbose_name_plural = _("excused members")
        constraints = [models.UniqueConstraint(fields=["report", "assignment"], name="report_excuse_once")]

    def __str__(self) -> str:
        return f"{self.assignment}: {self.reason}"


class ReportVerification(models.Model):
    """The short verification form of one level (steps 8, 11, 14)."""

    report = models.ForeignKey(ActivityReport, on_delete=models.PROTECT, related_name="verifications")
    level = models.CharField(max_length=10, choices=Level.choices)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    verified_at = models.DateTimeField(default=timezone.now)
    version_number = models.PositiveIntegerField()
    complete = models.BooleanField(_("complete: every section and member report present"))
    facts_separate = models.BooleanField(_("facts kept apart from opinion and analysis"))
    attachments_present = models.BooleanField(_("photos and attachments present"))
    classification_right = models.BooleanField(_("classification is right"))
    notes = models.TextField(_("verification notes"), blank=True)

    class Meta:
        verbose_name = _("verification")
        verbose_name_plural = _("verifications")
        ordering = ["verified_at", "pk"]

    def __str__(self) -> str:
        return f"{self.report_id} {self.level} v{self.version_number}"

    @property
    def all_passed(self) -> bool:
        return self.complete and self.facts_separate and self.attachments_present and self.classification_right


class ReportLog(AppendOnlyModel):
    """Append-only log of every step on a report: who, when, from, to, note."""

    report = models.ForeignKey(ActivityReport, on_delete=models.PROTECT, related_name="log")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=20, choices=ReportAction.choices)
    from_state = models.CharField(max_length=20, choices=ReportState.choices, blank=True)
    to_state = models.CharField(max_length=20, choices=ReportState.choices, blank=True)
    note = models.TextField(blank=True)
    version_number = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("report log entry")
        verbose_name_plural = _("report log entries")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action}"


class Letterhead(models.Model):
    """The kop surat of official documents; one row, edited by the administrator."""

    government = models.CharField(_("government"), max_length=200, default="PEMERINTAH KOTA TANGERANG")
    agency = models.CharField(_("agency"), max_length=200, default="BADAN KESATUAN BANGSA DAN POLITIK")
    address = models.CharField(
        _("address"), max_length=300, default="Jl. Satria Sudirman No. 1, Gedung Pusat Pemerintahan Kota Tangerang"
    )
    contact = models.CharField(
        _("telephone, e-mail, website"),
        max_length=300,
        blank=True,
        default="Telp. (021) 5587 0800 · kesbangpol@tangerangkota.go.id · kesbangpol.tangerangkota.go.id",
    )
    city = models.CharField(_("city for dates and signatures"), max_length=100, default="Tangerang")
    logo = models.ImageField(_("logo"), upload_to="letterhead/", blank=True)

    class Meta:
        verbose_name = _("letterhead")
        verbose_name_plural = _("letterhead")

    def __str__(self) -> str:
        return f"{self.government} / {self.agency}"

    @classmethod
    def current(cls) -> "Letterhead":
        """The row the data migration made (reports 0003), or, if it is gone, an unsaved
        one with the defaults: documents are made on GET, and a read never writes."""
        return cls.objects.order_by("pk").first() or cls()


class DocumentKind(models.TextChoices):
    SURAT_TUGAS = "surat_tugas", _("Surat Tugas")
    BERITA_ACARA = "berita_acara", _("Berita Acara")
    LAPORAN = "laporan", _("Laporan Hasil Kegiatan")
    # The monitoring and evaluation exports (monev): they belong to no one lokus.
    MONEV_XLSX = "monev_xlsx", _("Monitoring figures (XLSX)")
    MONEV_PDF = "monev_pdf", _("Laporan Monev Pelaksanaan Lokasi Khusus")


class DocumentDownload(AppendOnlyModel):
    """Who downloaded which official document, which version, and when (append-only)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("document"), max_length=20, choices=DocumentKind.choices)
    # Empty for the monitoring exports, which span many lokus.
    lokus = models.ForeignKey(Lokus, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    object_id = models.PositiveBigIntegerField()
    number = models.CharField(_("number"), max_length=120, blank=True)
    version = models.PositiveIntegerField(_("version"), default=0)
    classification = models.CharField(_("classification"), max_length=10, choices=Classification.choices)
    watermarked = models.BooleanField(_("stamped with the downloader"), default=False)
    downloaded_at = models.DateTimeField(_("downloaded at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("document download")
        verbose_name_plural = _("document downloads")
        ordering = ["-downloaded_at", "-pk"]
        permissions = [("view_download_log", "Can see who downloaded official documents")]
        # The download log, newest first, a page at a time.
        indexes = [models.Index(fields=["-downloaded_at", "-id"], name="download_newest_first")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} {self.user_id}"
