from django import forms
from django.utils.translation import gettext_lazy as _

from core.forms import FilterForm, choice_filter
from lokus.enums import Situation
from lokus.forms import IdMultipleChoiceField
from lokus.models import FieldMedia
from reports.enums import ReportState
from reports.models import CONTENT_FIELDS, ActivityReport, DocumentKind, ReportVerification
from reports.selectors import MINE, report_rows


class MediaChoiceField(IdMultipleChoiceField):
    def label_from_instance(self, media: FieldMedia) -> str:
        caption = media.caption or media.original_name
        return f"{media.get_kind_display()}: {caption} ({media.assignment.member.full_name})"


class ReportForm(forms.ModelForm):
    situation = forms.ChoiceField(
        label=_("situation status"), choices=[("", "---------"), *Situation.choices], required=False
    )
    media = MediaChoiceField(
        label=_("photos and attachments included"),
        queryset=FieldMedia.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = ActivityReport
        fields = CONTENT_FIELDS
        widgets = {
            field: forms.Textarea(attrs={"rows": 6 if field in ("facts", "analysis") else 3})
            for field in [
                "basis",
                "time_place",
                "main_problem",
                "facts",
                "dialogue",
                "analysis",
                "outlook",
                "recommendations",
            ]
        }
        help_texts = {
            "facts": _("Only what was seen, heard and documented, in time order. No opinion."),
            "analysis": _("Your assessment, kept apart from the facts."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        report = self.instance
        self.fields["media"].queryset = FieldMedia.objects.filter(assignment__lokus=report.lokus).select_related(
            "assignment__member"
        )
        self.fields["media"].initial = list(report.included_media.values_list("pk", flat=True))


class VerificationForm(forms.ModelForm):
    class Meta:
        model = ReportVerification
        fields = ["complete", "facts_separate", "attachments_present", "classification_right", "notes"]
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("note"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
        error_messages={"required": _("A return always carries a note saying what to revise.")},
    )


class ExcuseForm(forms.Form):
    assignment = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("reason"), max_length=500)


class ReportFilterForm(FilterForm):
    state = choice_filter(_("Stage"), ReportState.choices)
    # The home page's report queue links here with turn=mine: every report waiting for the user.
    turn = choice_filter(_("Whose turn"), [(MINE, _("yours now"))])

    def rows(self, user):
        """The list's rows for these filters (``reports.selectors.report_rows``)."""
        return report_rows(user, self.values.get("state", ""), mine=self.values.get("turn") == MINE)


class DownloadFilterForm(FilterForm):
    kind = choice_filter(_("Document"), DocumentKind.choices)
