"""SOP steps 4-5 as a field officer does them, on a phone."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.enums import Role
from core.access import record_access
from core.errors import ActionRefused
from core.models import AccessLog
from core.views import paginate, private_file, refusals_to_messages
from lokus import permissions, services
from lokus.enums import AssignmentState, Equipment, LokusState, MediaKind
from lokus.forms import (
    BeritaAcaraForm,
    ConfirmForm,
    EscalationForm,
    FieldNoteForm,
    MediaForm,
    MemberReportForm,
    PositionForm,
    RiskForm,
)
from lokus.models import FieldMedia, RiskAssessment
from lokus.panels import panels_for
from lokus.uploads import DOCUMENT_ACCEPT, IMAGE_ACCEPT, VIDEO_ACCEPT


def _own(user, pk: int):
    """The lokus and the user's own assignment on it; 404 for anyone not on the team."""
    lokus = get_object_or_404(permissions.lokus_for(user).select_related("plan", "sub_division"), pk=pk)
    assignment = permissions.assignment_of(user, lokus)
    if assignment is None:
        raise Http404
    return lokus, assignment


def _form_errors(form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@login_required
@require_GET
def assignment_list(request: HttpRequest) -> HttpResponse:
    if not request.user.has_role(Role.MEMBER):
        raise PermissionDenied
    rows = (
        permissions.assignments_for(request.user)
        .select_related("lokus__plan", "lokus__sub_division")
        .order_by("state", "-lokus__starts_at")
    )
    return render(request, "lokus/assignment_list.html", {"page": paginate(request, rows)})


@login_required
@require_GET
def assignment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    lokus, assignment = _own(user, pk)
    record_access(request, AccessLog.Kind.ASSIGNMENT, lokus.pk, assignment.pk, lokus.classification)
    team = list(lokus.assignments.select_related("member").order_by("-is_coordinator", "member__full_name"))
    risk = RiskAssessment.objects.filter(lokus=lokus).first()
    is_coordinator = permissions.is_coordinator(user, lokus)
    working = assignment.state == AssignmentState.CHECKED_IN
    return render(
        request,
        "lokus/assignment_detail.html",
        {
            "lokus": lokus,
            "plan": lokus.plan,
            "assignment": assignment,
            "team": team,
            "korlap": next((a.member for a in team if a.is_coordinator), None),
            "risk": risk,
            "is_coordinator": is_coordinator,
            "confirm_form": ConfirmForm(initial={"equipment": assignment.equipment}),
            "equipment": Equipment.choices,
            "risk_form": RiskForm(instance=risk) if is_coordinator and lokus.state == LokusState.DISPATCHED else None,
            "position_form": PositionForm(),
            "note_form": FieldNoteForm() if working else None,
            "report_form": MemberReportForm() if working else None,
            "escalation_form": EscalationForm() if lokus.state in (LokusState.DISPATCHED, LokusState.RUNNING) else None,
            "panels": panels_for(user, lokus) if is_coordinator else [],
            "berita_acara_list": lokus.berita_acara.all(),
            "can_record_ba": lokus.state in (LokusState.DISPATCHED, LokusState.RUNNING, LokusState.FIELD_DONE),
            "my_notes": assignment.notes.all(),
            "my_media": assignment.media.all(),
            "upload_controls": [
                (MediaKind.PHOTO, MediaKind.PHOTO.label, IMAGE_ACCEPT, True),
                (MediaKind.VIDEO, MediaKind.VIDEO.label, VIDEO_ACCEPT, True),
                (MediaKind.BERITA_ACARA, MediaKind.BERITA_ACARA.label, DOCUMENT_ACCEPT, False),
            ],
        },
    )


@login_required
@require_POST
@refusals_to_messages("lokus:assignment")
def assignment_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    lokus, _assignment = _own(request.user, pk)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_errors(form))
        return redirect("lokus:assignment", lokus.pk)
    services.assignment_confirm(user=request.user, lokus_id=lokus.pk, equipment=form.cleaned_data["equipment"])
    messages.success(request, _("Confirmed: you are ready (Siap)."))
    return redirect("lokus:assignment", lokus.pk)


@login_required
@require_http_methods(["GET", "POST"])
def risk_assessment(request: HttpRequest, pk: int) -> HttpResponse:
    lokus, _assignment = _own(request.user, pk)
    if not permissions.is_coordinator(request.user, lokus):
        raise PermissionDenied
    risk = RiskAssessment.objects.filter(lokus=lokus).first()
    form = RiskForm(request.POST or None, instance=risk)
    if request.method == "POST" and form.is_valid():
        data = {f: form.cleaned_data[f] for f in RiskForm.Meta.fields}
        try:
            services.risk_record(user=request.user, lokus_id=lokus.pk, data=data)
        except ActionRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            if data["go"]:
                messages.success(request, _("Risk mapping saved: go. The team may start."))
            else:
                messages.warning(request, _("Risk mapping saved: no-go. The Kasubbid and the team are notified."))
            return redirect(reverse("lokus:assignment", args=[lokus.pk]) + "#status")
    return render(request, "lokus/risk_form.html", {"form": form, "lokus": lokus})


@login_required
@require_POST
@refusals_to_messages("lokus:assignment")
def check_in(request: HttpRequest, pk: int) -> HttpResponse:
    lokus, _assignment = _own(request.user, pk)
    form = PositionForm(request.POST)
    position = form.cleaned_data if form.is_valid() else {}
    services.assignment_check_in(
        user=request.user, lokus_id=lokus.pk, latitude=position.get("latitude"), longitude=position.get("longitude")
    )
    messages.success(request, _("Started. Stay safe; record what you see."))
    return redirect(reverse("lokus:assignment", args=[lokus.pk]) + "#field")


def _field_post(request, pk, form_class, run, success, files=False):
    lokus, _assignment = _own(request.user, pk)
    form = form_class(request.POST, request.FILES if files else None)
    if form.is_valid():
        try:
            run(lokus, form.cleaned_data)
        except ActionRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, success)
            return redirect(reverse("lokus:assignment", args=[lokus.pk]) + "#field")
    # Nothing typed is lost: the page is shown again with the text and the reasons.
    messages.error(request, _form_errors(form))
    return render(request, "lokus/field_form.html", {"form": form, "lokus": lokus, "action": request.path}, status=400)


@login_required
@require_POST
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _field_post(
        request,
        pk,
        FieldNoteForm,
        lambda lokus, data: services.field_note_add(user=request.user, lokus_id=lokus.pk, data=data),
        _("Note saved."),
    )


@login_required
@require_POST
def media_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _field_post(
        request,
        pk,
        MediaForm,
        lambda lokus, data: services.field_media_add(
            user=request.user, lokus_id=lokus.pk, kind=data["kind"], clean=data["clean"], caption=data["caption"]
        ),
        _("File uploaded."),
        files=True,
    )


@login_required
@require_http_methods(["GET", "POST"])
def member_report(request: HttpRequest, pk: int) -> HttpResponse:
    lokus, assignment = _own(request.user, pk)
    if request.method == "GET":
        if assignment.state != AssignmentState.CHECKED_IN:
            return redirect("lokus:assignment", lokus.pk)
        return render(
            request,
            "lokus/field_form.html",
            {"form": MemberReportForm(), "lokus": lokus, "action": request.path, "is_report": True},
        )
    return _field_post(
        request,
        pk,
        MemberReportForm,
        lambda lokus, data: services.member_report_submit(user=request.user, lokus_id=lokus.pk, data=data),
        _("Your report was submitted. Thank you."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def escalate(request: HttpRequest, pk: int) -> HttpResponse:
    lokus, _assignment = _own(request.user, pk)
    form = EscalationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.escalation_raise(
                user=request.user,
                lokus_id=lokus.pk,
                kind=data["kind"],
                message=data["message"],
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
            )
        except ActionRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.warning(
                request,
                _(
                    "Alert sent to the coordinator, the Kasubbid and the Kabid. Withdraw to safety and "
                    "coordinate with TNI/Polri."
                ),
            )
            return redirect("lokus:assignment", lokus.pk)
    return render(request, "lokus/escalation_form.html", {"form": form, "lokus": lokus})


@login_required
@require_GET
def media_file(request: HttpRequest, pk: int) -> HttpResponse:
    media = get_object_or_404(
        FieldMedia.objects.filter(assignment__lokus__in=permissions.lokus_for(request.user)).select_related(
            "assignment__lokus"
        ),
        pk=pk,
    )
    lokus = media.assignment.lokus
    record_access(request, AccessLog.Kind.FILE, lokus.pk, media.pk, lokus.classification)
    inline = media.content_type.startswith(("image/", "video/")) or media.content_type == "application/pdf"
    return private_file(media.file, content_type=media.content_type, name=media.original_name, inline=inline)


@login_required
@require_http_methods(["GET", "POST"])
def berita_acara_add(request: HttpRequest, pk: int) -> HttpResponse:
    lokus, _assignment = _own(request.user, pk)
    form = BeritaAcaraForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            record = services.berita_acara_add(user=request.user, lokus_id=lokus.pk, data=form.cleaned_data)
        except ActionRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, _("Berita Acara recorded: %(title)s.") % {"title": record.title})
            return redirect(reverse("lokus:assignment", args=[lokus.pk]) + "#documents")
    return render(request, "lokus/berita_acara_form.html", {"form": form, "lokus": lokus})
