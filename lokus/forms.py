import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Agency
from core.enums import Classification
from core.forms import ALL, FilterForm, QuickSelect, choice_filter
from core.models import AccessLog
from core.validators import sane_datetime
from lokus import selectors, uploads
from lokus.enums import Equipment, EscalationKind, LokusState, MediaKind, PlanCategory, PlanStatus, RiskLevel, Situation
from lokus.models import (
    ActivityPlan,
    BeritaAcara,
    Escalation,
    FieldNote,
    Kecamatan,
    Kelurahan,
    Lokus,
    MemberReport,
    RiskAssessment,
)

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"
MAX_PLAN_ATTACHMENTS = 5


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format=DATETIME_FORMAT, **kwargs)


def datetime_field(label, required=True, help_text=""):
    """A date and time typed in WIB, within the sane range (core/validators.py): a value such
    as year 1 is refused here, before any comparison or the database could fail on it."""
    return forms.DateTimeField(
        label=label,
        required=required,
        help_text=help_text,
        widget=DateTimeLocalInput(),
        input_formats=[DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        validators=[sane_datetime(label)],
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": uploads.DOCUMENT_ACCEPT}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


class KelurahanSelect(forms.Select):
    """The kelurahan list, each <option> naming its kecamatan (``data-kecamatan``), so that
    the page narrows it to the chosen kecamatan at once, without a round trip
    (static/js/lokus.js)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-kecamatan"] = instance.kecamatan_id
        return option


class PlanForm(forms.ModelForm):
    """Step 1. Staff entering on behalf of someone also name the source."""

    starts_at = datetime_field(_("starts at (WIB)"))
    ends_at = datetime_field(_("ends at (WIB)"))
    attachments = MultipleFileField(
        label=_("attachments"),
        required=False,
        help_text=_("E.g. the notification letter: PDF or photo, up to 15 MB each, at most 5 files."),
    )
    source_agency = forms.ModelChoiceField(
        label=_("source agency"), queryset=Agency.objects.filter(is_active=True), required=False
    )
    source_name = forms.CharField(
        label=_("source (person or group)"),
        max_length=200,
        required=False,
        help_text=_("When the information comes from a member of the public or another source."),
    )

    class Meta:
        model = ActivityPlan
        fields = ActivityPlan.STEP1_FIELDS
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "latitude": forms.NumberInput(attrs={"step": "0.000001", "inputmode": "decimal"}),
            "longitude": forms.NumberInput(attrs={"step": "0.000001", "inputmode": "decimal"}),
            "kelurahan": KelurahanSelect,
        }

    def __init__(self, *args, on_behalf: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.on_behalf = on_behalf
        if not on_behalf:
            del self.fields["source_agency"]
            del self.fields["source_name"]
        self.fields["kecamatan"].queryset = Kecamatan.objects.order_by("name")
        # Every kelurahan is in the page, each naming its kecamatan: the page offers only the
        # chosen kecamatan's, at once, and visibly clears a choice the kecamatan no longer
        # fits (a list fetched after the choice used to drop a kelurahan picked meanwhile).
        # Without script every kelurahan is listed; clean() checks the pair either way.
        self.fields["kelurahan"].queryset = Kelurahan.objects.order_by("name")
        self.fields["kelurahan"].widget.attrs.update(
            {
                "data-filter-by": self.add_prefix("kecamatan"),
                "data-wait": _("Choose the kecamatan first"),
                "data-cleared": _("Choose the kelurahan again: it is not in this kecamatan."),
            }
        )

    def clean_starts_at(self):
        starts_at = self.cleaned_data["starts_at"]
        if starts_at < timezone.now() - datetime.timedelta(days=1):
            raise ValidationError(_("The start cannot be more than a day in the past."))
        return starts_at

    def clean_attachments(self):
        files = self.cleaned_data.get("attachments") or []
        if len(files) > MAX_PLAN_ATTACHMENTS:
            raise ValidationError(_("At most %(n)s files.") % {"n": MAX_PLAN_ATTACHMENTS})
        cleaned, errors = [], []
        for upload in files:
            try:
                cleaned.append(uploads.clean_document(upload))
            except ValidationError as error:
                errors.extend(f"{upload.name}: {message}" for message in error.messages)
        if errors:
            raise ValidationError(errors)
        return cleaned

    def clean(self):
        # The end after the start and the kelurahan in the kecamatan are the model's rule
        # (ActivityPlan.clean), which the ModelForm runs after this. The kelurahan is checked
        # here first, to name the kelurahan refused: the list shown again is the kecamatan's.
        data = super().clean()
        if self.on_behalf and not data.get("source_agency") and not (data.get("source_name") or "").strip():
            self.add_error("source_name", _("Name the source of the information: a partner agency or a person."))
        kecamatan, kelurahan = data.get("kecamatan"), data.get("kelurahan")
        if kecamatan and kelurahan and kelurahan.kecamatan_id != kecamatan.pk:
            self.add_error(
                "kelurahan",
                _("Kelurahan: %(kelurahan)s is not in the chosen kecamatan (%(kecamatan)s).")
                % {"kelurahan": kelurahan.name, "kecamatan": kecamatan.name},
            )
        return data


class NotChosenForm(forms.Form):
    reason = forms.CharField(
        label=_("reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        error_messages={"required": _("Give the reason the plan is not chosen.")},
    )


class LokusForm(forms.ModelForm):
    """Step 3. How the times relate (the end after the start, the meeting before the end) is
    the model's rule (Lokus.clean), which the ModelForm runs."""

    assembly_at = datetime_field(_("meeting time (WIB)"), required=False)
    starts_at = datetime_field(_("schedule start (WIB)"))
    ends_at = datetime_field(_("schedule end (WIB)"))

    class Meta:
        model = Lokus
        fields = Lokus.STEP3_FIELDS
        widgets = {
            "problem": forms.Textarea(attrs={"rows": 4}),
            "latitude": forms.NumberInput(attrs={"step": "0.000001", "inputmode": "decimal"}),
            "longitude": forms.NumberInput(attrs={"step": "0.000001", "inputmode": "decimal"}),
        }


class IdMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A ModelMultipleChoiceField for which an id too long for the database is a wrong
    choice (SQLite raises OverflowError on it in an ``__in`` query instead of finding
    nothing; a single ModelChoiceField already copes)."""

    def _check_values(self, value):
        try:
            return super()._check_values(value)
        except OverflowError:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": "…"}
            ) from None


class TeamForm(forms.Form):
    members = IdMultipleChoiceField(
        label=_("field officers"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one field officer.")},
    )
    coordinator = forms.ModelChoiceField(
        label=_("field coordinator (Korlap)"),
        queryset=None,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose exactly one field coordinator.")},
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = candidates
        self.fields["coordinator"].queryset = candidates

    def clean(self):
        data = super().clean()
        members, coordinator = data.get("members"), data.get("coordinator")
        if members is not None and coordinator is not None and coordinator not in members:
            self.add_error("coordinator", _("The field coordinator must be one of the chosen officers."))
        return data


class OutboxForm(forms.Form):
    """What the phone's outbox adds to every field form it sends (lokus/submissions.py): the
    UUID made on the phone when the officer did it, and when that was (ISO 8601 with offset).
    Both optional: a normal post from the page has neither."""

    client_uuid = forms.UUIDField(
        required=False, error_messages={"invalid": _("The identifier of this entry is not valid.")}
    )
    captured_at = forms.DateTimeField(
        required=False,
        validators=[sane_datetime(_("time of the entry"))],
        error_messages={"invalid": _("The time of this entry is not a valid date and time.")},
    )


class ConfirmForm(forms.Form):
    equipment = forms.MultipleChoiceField(
        label=_("equipment I carry"), choices=Equipment.choices, widget=forms.CheckboxSelectMultiple, required=False
    )


class PositionForm(forms.Form):
    latitude = forms.DecimalField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False, widget=forms.HiddenInput
    )
    longitude = forms.DecimalField(
        max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False, widget=forms.HiddenInput
    )


class RiskForm(forms.ModelForm):
    go = forms.TypedChoiceField(
        label=_("decision"),
        coerce=lambda v: v == "go",
        widget=forms.RadioSelect,
        choices=[("go", _("Go: safe to enter")), ("nogo", _("No-go: do not enter"))],
    )

    class Meta:
        model = RiskAssessment
        fields = ["threats", "access_routes", "exit_routes", "security_contact", "go", "notes"]
        widgets = {
            "threats": forms.Textarea(attrs={"rows": 3}),
            "access_routes": forms.Textarea(attrs={"rows": 2}),
            "exit_routes": forms.Textarea(attrs={"rows": 2}),
            "notes": forms.Textarea(attrs={"rows": 2}),
        }


def situation_field(label):
    return forms.ChoiceField(label=label, choices=Situation.choices, widget=forms.RadioSelect)


class FieldNoteForm(forms.ModelForm):
    situation = situation_field(_("situation"))

    class Meta:
        model = FieldNote
        fields = ["body", "crowd_estimate", "situation"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 4}),
            "crowd_estimate": forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
            "situation": forms.RadioSelect,
        }


class MediaForm(forms.Form):
    kind = forms.ChoiceField(label=_("kind"), choices=MediaKind.choices, initial=MediaKind.PHOTO)
    file = forms.FileField(label=_("file"))
    caption = forms.CharField(label=_("caption"), max_length=300, required=False)

    def clean(self):
        data = super().clean()
        upload, kind = data.get("file"), data.get("kind")
        if upload is None or kind is None:
            return data
        cleaners = {
            MediaKind.PHOTO: uploads.clean_image,
            MediaKind.VIDEO: uploads.clean_video,
            MediaKind.BERITA_ACARA: uploads.clean_document,
        }
        try:
            data["clean"] = cleaners[kind](upload)
        except ValidationError as error:
            self.add_error("file", error)
        return data


class MemberReportForm(forms.ModelForm):
    situation = situation_field(_("final situation"))

    class Meta:
        model = MemberReport
        fields = ["summary", "situation", "crowd_estimate"]
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 6}),
            "situation": forms.RadioSelect,
            "crowd_estimate": forms.NumberInput(attrs={"inputmode": "numeric", "min": 0}),
        }


class EscalationForm(PositionForm):
    kind = forms.ChoiceField(label=_("what is happening"), choices=EscalationKind.choices, widget=forms.RadioSelect)
    message = forms.CharField(label=_("short message"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class BeritaAcaraForm(forms.Form):
    """A structured Berita Acara; the parties are typed one per line as "name; position"."""

    title = forms.CharField(label=_("subject"), max_length=200, help_text=_("E.g. dialogue with the organisers."))
    place = forms.CharField(label=_("place"), max_length=300)
    held_at = datetime_field(_("date and time (WIB)"))
    parties = forms.CharField(
        label=_("parties present"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_('One per line: "name; position or organisation".'),
    )
    discussion = forms.CharField(label=_("what was discussed"), widget=forms.Textarea(attrs={"rows": 4}))
    agreements = forms.CharField(label=_("what was agreed"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    events = forms.CharField(label=_("what happened"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    copies = forms.IntegerField(label=_("number of copies"), min_value=1, max_value=20, initial=2)

    def __init__(self, *args, lokus: Lokus | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lokus = lokus

    def clean_held_at(self):
        held_at = self.cleaned_data["held_at"]
        if self.lokus is not None:
            # The model's rule (not before the lokus, not far ahead), shown on the field.
            try:
                BeritaAcara(lokus=self.lokus, held_at=held_at).clean()
            except ValidationError as error:
                raise ValidationError(error.message_dict["held_at"]) from None
        return held_at

    def clean_parties(self):
        parties = []
        for line in self.cleaned_data["parties"].splitlines():
            name, _sep, position = line.partition(";")
            if name.strip():
                parties.append({"name": name.strip()[:150], "position": position.strip()[:150]})
        if not parties:
            raise ValidationError(_("Name at least one party present."))
        if len(parties) > 30:
            raise ValidationError(_("At most 30 parties."))
        return parties


# List filters ---------------------------------------------------------------------------------


def hidden_date_filter() -> forms.DateField:
    """A day (WIB) a link sets, kept through the list's filter form and its pages."""
    return forms.DateField(required=False, widget=forms.HiddenInput, validators=[sane_datetime(_("Day"))])


def hidden_id_filter() -> forms.IntegerField:
    """A number a link sets (a sub-division, a kecamatan): any other value is ignored."""
    return forms.IntegerField(required=False, min_value=1, max_value=10**12, widget=forms.HiddenInput)


class PlanFilterForm(FilterForm):
    q = forms.CharField(
        label=_("Search"),
        max_length=100,
        required=False,
        strip=True,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("title, organiser, address")}),
    )
    status = choice_filter(_("Status"), [*PlanStatus.choices, (selectors.NOT_DECLINED, _("received or chosen"))])
    kecamatan = forms.ChoiceField(label=_("Kecamatan"), required=False, widget=QuickSelect)
    when = forms.ChoiceField(
        label=_("Time"),
        widget=QuickSelect,
        choices=[
            ("upcoming", _("upcoming and ongoing")),
            ("all", _("all, newest first")),
            # The home page's queue of plans to decide continues here, in the same order.
            ("waiting", _("all, longest waiting first")),
        ],
        required=False,
    )
    # The calendar's "and N more" of one day links here: the plans running on that day.
    day = forms.DateField(
        label=_("Day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[sane_datetime(_("Day"))],
    )
    category = choice_filter(_("Category"), PlanCategory.choices)
    # The monitoring dashboard's figures (monev) link here with these: plans received within
    # a period (days in WIB), counting for a sub-division, declined for a reason.
    received_since = hidden_date_filter()
    received_until = hidden_date_filter()
    sub_division = hidden_id_filter()
    reason = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, data=None, **kwargs):
        # Choices compared as strings: only the exact number of a kecamatan selects it.
        self.base_fields["kecamatan"].choices = [("", ALL), *((str(k.pk), k.name) for k in Kecamatan.objects.all())]
        super().__init__(data, **kwargs)

    def apply(self, plans):
        status = self.values.get("status")
        if status == selectors.NOT_DECLINED:
            plans = plans.exclude(status=PlanStatus.NOT_CHOSEN)
        elif status:
            plans = plans.filter(status=status)
        if "kecamatan" in self.values:
            plans = plans.filter(kecamatan_id=int(self.values["kecamatan"]))
        if query := self.values.get("q"):
            plans = plans.filter(
                Q(title__icontains=query) | Q(organiser__icontains=query) | Q(address__icontains=query)
            )
        plans = self._monitoring(plans)
        if day := self.values.get("day"):
            # In the calendar's order, whatever the time filter says.
            return selectors.plans_on_day(plans, day).order_by("starts_at", "pk")
        when = self.values.get("when", "upcoming")
        if when == "upcoming":
            return plans.filter(ends_at__gte=timezone.now()).order_by("starts_at", "pk")
        if when == "waiting":
            return plans.order_by("submitted_at", "pk")
        return plans.order_by("-starts_at", "-pk")

    def _monitoring(self, plans):
        v = self.values
        if "category" in v:
            plans = plans.filter(category=v["category"])
        if "received_since" in v:
            plans = plans.filter(submitted_at__gte=selectors.day_bounds(v["received_since"])[0])
        if "received_until" in v:
            plans = plans.filter(submitted_at__lt=selectors.day_bounds(v["received_until"])[1])
        if "sub_division" in v:
            plans = plans.filter(selectors.plans_of_sub_divisions([v["sub_division"]]))
        if "reason" in v:
            plans = plans.filter(status=PlanStatus.NOT_CHOSEN).alias(reason_key=selectors.reason_key())
            plans = plans.filter(reason_key=selectors.reason_key(Value(v["reason"])))
        return plans


class LokusFilterForm(FilterForm):
    state = choice_filter(
        _("Stage"), [(selectors.IN_PROGRESS, _("In progress (dispatched or in the field)")), *LokusState.choices]
    )
    # The home page's queue of teams yet to confirm links here.
    team = choice_filter(_("Team"), [(selectors.UNCONFIRMED, _("members yet to confirm"))])
    risk_level = choice_filter(_("Risk level"), RiskLevel.choices)
    classification = choice_filter(_("Classification"), Classification.choices)
    # The monitoring dashboard's figures (monev) link here with these: lokus of a
    # sub-division and kecamatan, chosen within a period, with an escalation of a kind raised
    # within a period (days in WIB).
    sub_division = hidden_id_filter()
    kecamatan = hidden_id_filter()
    chosen_since = hidden_date_filter()
    chosen_until = hidden_date_filter()
    escalation = forms.ChoiceField(choices=EscalationKind.choices, required=False, widget=forms.HiddenInput)
    escalated_since = hidden_date_filter()
    escalated_until = hidden_date_filter()

    def apply(self, lokus):
        state = self.values.get("state")
        if state == selectors.IN_PROGRESS:
            lokus = selectors.lokus_in_progress(lokus)
        elif state:
            lokus = lokus.filter(state=state)
        if self.values.get("team") == selectors.UNCONFIRMED:
            lokus = selectors.with_unconfirmed_members(lokus)
        return self._monitoring(lokus)

    def _monitoring(self, lokus):
        v = self.values
        for name in ("risk_level", "classification"):
            if name in v:
                lokus = lokus.filter(**{name: v[name]})
        if "sub_division" in v:
            lokus = lokus.filter(sub_division_id=v["sub_division"])
        if "kecamatan" in v:
            lokus = lokus.filter(plan__kecamatan_id=v["kecamatan"])
        if "chosen_since" in v:
            lokus = lokus.filter(created_at__gte=selectors.day_bounds(v["chosen_since"])[0])
        if "chosen_until" in v:
            lokus = lokus.filter(created_at__lt=selectors.day_bounds(v["chosen_until"])[1])
        if "escalation" in v:
            raised = Q(kind=v["escalation"])
            if "escalated_since" in v:
                raised &= Q(raised_at__gte=selectors.day_bounds(v["escalated_since"])[0])
            if "escalated_until" in v:
                raised &= Q(raised_at__lt=selectors.day_bounds(v["escalated_until"])[1])
            lokus = lokus.filter(pk__in=Escalation.objects.filter(raised).values("lokus_id"))
        return lokus


class AccessLogFilterForm(FilterForm):
    kind = choice_filter(_("What"), AccessLog.Kind.choices)
