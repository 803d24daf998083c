"""The dashboard's filters: the period (WIB), the sub-division and the kecamatan, read from the
query string like every list's filters (``core.forms.FilterForm``: a value that does not fit
is dropped). A custom range that cannot be used (a date missing, the end before the start,
too long) says why and the dashboard shows this month."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import SubDivision
from core.forms import ALL, FilterForm
from core.validators import sane_datetime
from lokus.models import Kecamatan
from monev import metrics
from monev.metrics import MAX_RANGE_DAYS, OccurrenceFilter, PeriodKind, Selection, Status
from monev.permissions import narrowed


def _date_field(label) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        validators=[sane_datetime(label)],
    )


class DashboardFilterForm(FilterForm):
    period = forms.ChoiceField(label=_("Period"), choices=PeriodKind.CHOICES, required=False)
    since = _date_field(_("From (custom range)"))
    until = _date_field(_("Until (custom range)"))
    sub_division = forms.ChoiceField(label=_("Sub-division"), required=False)
    kecamatan = forms.ChoiceField(label=_("Kecamatan"), required=False)

    def __init__(self, data=None, *, scope, sub_divisions, kecamatan, **kwargs):
        """``scope``: the viewer's sub-divisions (``monev.permissions.monev_scope``);
        ``sub_divisions`` and ``kecamatan``: the choices, fetched once by the view (they name
        the rows of the figures too)."""
        self.scope = scope
        shown = [s for s in sub_divisions if scope is None or s.pk in scope]
        self.base_fields["sub_division"].choices = [("", ALL), *((str(s.pk), s.short_name) for s in shown)]
        self.base_fields["kecamatan"].choices = [("", ALL), *((str(k.pk), k.name) for k in kecamatan)]
        super().__init__(data, **kwargs)
        if len(shown) <= 1:
            # A Kasubbid sees one sub-division: there is nothing to choose.
            self.fields.pop("sub_division")
        self.problem = self._range_problem()

    def _range_problem(self) -> str:
        if self.values.get("period") != PeriodKind.CUSTOM:
            return ""
        since, until = self.values.get("since"), self.values.get("until")
        if not since or not until:
            return _("Choose both dates of the custom range. Showing this month.")
        if until < since:
            return _("The end of the custom range is before its start. Showing this month.")
        if (until - since).days >= MAX_RANGE_DAYS:
            return _("A custom range can be at most three years. Showing this month.")
        return ""

    def chosen_period(self, today: datetime.date | None = None) -> metrics.Period:
        today = today or timezone.localdate()
        kind = self.values.get("period", PeriodKind.MONTH)
        if self.problem:
            kind = PeriodKind.MONTH
        return metrics.period_for(kind, today, self.values.get("since"), self.values.get("until"))

    def selection(self, today: datetime.date | None = None) -> Selection:
        sub = self.values.get("sub_division")
        kecamatan = self.values.get("kecamatan")
        return Selection(
            self.chosen_period(today),
            narrowed(self.scope, int(sub) if sub else None),
            int(kecamatan) if kecamatan else None,
        )

    def query(self, *, dashboard_only: bool = False, **extra) -> dict:
        """The filters in force as query parameters (for links and exports), with ``extra``;
        ``dashboard_only``: only the dashboard's own."""
        names = DashboardFilterForm.base_fields if dashboard_only else self.fields
        params = {name: value for name, value in self.selected.items() if name in names and name in self.fields}
        if self.problem:
            params = {k: v for k, v in params.items() if k not in ("period", "since", "until")}
        return {**params, **{k: v for k, v in extra.items() if v is not None}}


def _hidden_number(low: int, high: int) -> forms.IntegerField:
    return forms.IntegerField(min_value=low, max_value=high, required=False, widget=forms.HiddenInput)


class OccurrenceFilterForm(DashboardFilterForm):
    """The list behind a figure: the dashboard's filters, and which occurrences (set by the
    figure's link, kept through the filter form and the pages)."""

    status = forms.ChoiceField(choices=Status.CHOICES, required=False, widget=forms.HiddenInput)
    step = _hidden_number(metrics.CHAIN, 15)
    sub = _hidden_number(1, 10**12)
    officer = _hidden_number(1, 10**12)
    month = _hidden_number(200001, 999912)
    rounds = _hidden_number(1, 10**6)

    def occurrence_filter(self) -> OccurrenceFilter:
        v = self.values
        return OccurrenceFilter(
            status=v.get("status", Status.BREACH),
            step=v.get("step"),
            sub_division_id=v.get("sub"),
            officer_id=v.get("officer"),
            month=v.get("month"),
            rounds=v.get("rounds"),
        )


def sub_divisions_and_kecamatan() -> tuple[list[SubDivision], list[Kecamatan]]:
    return list(SubDivision.objects.order_by("name")), list(Kecamatan.objects.order_by("name"))
