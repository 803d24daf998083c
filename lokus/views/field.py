"""SOP steps 4-5 as a field officer does them, on a phone."""

from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.enums import Role
from accounts.services import users_with_role
from core.access import record_access
from core.errors import ActionRefused
from core.models import AccessLog
from core.views import paginate, private_file
from lokus import permissions, selectors, services
from lokus.enums import Equipment, MediaKind
from lokus.forms import (
    BeritaAcaraForm,
    ConfirmForm,
    EscalationForm,
    FieldNoteForm,
    MediaForm,
    MemberReportForm,
    OutboxForm,
    PositionForm,
    RiskForm,
)
from lokus.models import FieldMedia
from lokus.panels import panels_for
from lokus.submissions import Replayed
from lokus.uploads import DOCUMENT_ACCEPT, IMAGE_ACCEPT, VIDEO_ACCEPT


def _own(user, pk: int, grants=None, team: bool = False):
    """The lokus and the user's own assignment on it; 404 for anyone not on the team.
    ``grants``: the page's ``permissions.grants_reader``, when it checks more. ``team``:
    the lokus's team is read (``selectors.team``) and the assignment found in it, for a
    page that shows the team: the lokus, the assignment and the team are then returned."""
    lokus = get_object_or_404(permissions.lokus_for(user).select_related("plan", "sub_division"), pk=pk)
    members = selectors.team(lokus) if team else None
    assignment = permissions.assignment_of(user, lokus, team=members, grants=grants)
    if assignment is None:
        raise Http404
    return (lokus, assignment, members) if team else (lokus, assignment)


def _form_errors(form) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


# The phone's outbox asks with this header for JSON answers (lokus/submissions.py); a post
# from the page itself keeps its redirects and form pages.
OUTBOX_HEADER = "X-Lokus-Outbox"


def _from_outbox(request: HttpRequest) -> bool:
    return request.method == "POST" and request.headers.get(OUTBOX_HEADER) == "1"


def _outbox_answer(status: str, message, *, code: int = 200, errors: dict | None = None) -> JsonResponse:
    body = {"ok": code == 200, "status": status, "message": str(message)}
    if errors is not None:
        body["errors"] = errors
    return JsonResponse(body, status=code)


def outbox_answers(view):
    """A field action answers the phone's outbox in JSON also when it may not be done: a lokus
    the user may not see (or no longer, taken off the team) is 404, an action they may not
    take 403, both "forbidden". Without the header the view answers as before."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not _from_outbox(request):
            return view(request, *args, **kwargs)
        try:
            return view(request, *args, **kwargs)
        except Http404:
            return _outbox_answer("forbidden", _("You are not (or no longer) on the team of this lokus."), code=404)
        except PermissionDenied:
            return _outbox_answer("forbidden", _("You may not do this on this lokus."), code=403)

    return wrapper


def _act(request: HttpRequest, *, form, run, done, then: str, invalid) -> HttpResponse:
    """Every field action the same way: validate the form and the outbox's fields
    (``OutboxForm``), run the service, answer. To the phone's outbox in JSON: "created",
    "replayed" (a resend: the original result, nothing done again) or "refused" with the
    reasons per field. To a browser as before: the success message and a redirect to
    ``then``, or ``invalid(form)``, the form with the reasons.

    ``run(data, client_uuid=..., captured_at=...)`` calls the service with the form's data;
    ``done(result)`` gives the success message's level and text."""
    outbox = OutboxForm(request.POST)
    form_valid, outbox_valid = form.is_valid(), outbox.is_valid()
    if form_valid and outbox_valid:
        status = "refused"
        try:
            result, status = run(form.cleaned_data, **outbox.cleaned_data), "created"
        except Replayed as replay:
            result, status = replay.result, "replayed"
        except ActionRefused as refusal:
            form.add_error(None, refusal.message)
        if status != "refused":
            level, text = done(result)
            if _from_outbox(request):
                return _outbox_answer(status, text)
            messages.add_message(request, level, text)
            return redirect(then)
    if _from_outbox(request):
        errors = {field: list(problems) for field, problems in {**outbox.errors, **form.errors}.items()}
        message = " ".join(filter(None, [_form_errors(outbox), _form_errors(form)]))
        return _outbox_answer("refused", message, code=400, errors=errors)
    for problems in outbox.errors.values():
        form.add_error(None, problems)
    return invalid(form)


def _back_with_errors(request: HttpRequest, form, url: str) -> HttpResponse:
    messages.error(request, _form_errors(form))
    return redirect(url)


@login_required
@require_GET
def assignment_list(request: HttpRequest) -> HttpResponse:
    if not permissions.may_list_assignments(request.user):
        raise PermissionDenied
    page = paginate(request, selectors.assignment_rows(request.user))
    page.object_list = selectors.assignment_page_rows(page.object_list)
    return render(request, "lokus/assignment_list.html", {"page": page})


@login_required
@require_GET
def assignment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    grants = permissions.grants_reader(user)  # the lokus's grants, read once for both checks
    lokus, assignment, team = _own(user, pk, grants, team=True)
    record_access(request, AccessLog.Kind.ASSIGNMENT, lokus.pk, assignment.pk, lokus.classification)
    page = selectors.assignment_page(lokus, assignment, team)
    is_coordinator = permissions.is_coordinator(user, lokus, grants)
    working = assignment.in_the_field
    return render(
        request,
        "lokus/assignment_detail.html",
        {
            **page,
            "lokus": lokus,
            "plan": lokus.plan,
            "assignment": assignment,
            "is_coordinator": is_coordinator,
            "confirm_form": ConfirmForm(initial={"equipment": assignment.equipment}),
            "equipment": Equipment.choices,
            "risk_form": RiskForm(instance=page["risk"]) if is_coordinator and lokus.takes_risk_mapping else None,
            "position_form": PositionForm(),
            "note_form": FieldNoteForm() if working else None,
            "report_form": MemberReportForm() if working else None,
            "escalation_form": EscalationForm() if lokus.in_progress else None,
            "panels": panels_for(user, lokus) if is_coordinator else [],
            "can_record_ba": lokus.takes_berita_acara,
            "upload_controls": [
                (MediaKind.PHOTO, MediaKind.PHOTO.label, IMAGE_ACCEPT, True),
                (MediaKind.VIDEO, MediaKind.VIDEO.label, VIDEO_ACCEPT, True),
                (MediaKind.BERITA_ACARA, MediaKind.BERITA_ACARA.label, DOCUMENT_ACCEPT, False),
            ],
        },
    )


@login_required
@require_POST
@outbox_answers
def assignment_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    lokus, _assignment = _own(request.user, pk)
    page = reverse("lokus:assignment", args=[lokus.pk])
    return _act(
        request,
        form=ConfirmForm(request.POST),
        run=lambda data, **offline: services.assignment_confirm(
            user=request.user, lokus_id=lokus.pk, equipment=data["equipment"], **offline
        ),
        done=lambda result: (messages.SUCCESS, _("Confirmed: you are ready (Siap).")),
        then=page,
        invalid=lambda form: _back_with_errors(request, form, page),
    )


def _risk_saved(risk) -> tuple[int, str]:
    if risk.go:
        return messages.SUCCESS, _("Risk mapping saved: go. The team may start.")
    return messages.WARNING, _("Risk mapping saved: no-go. The Kasubbid and the team are notified.")


@login_required
@require_http_methods(["GET", "POST"])
@outbox_answers
def risk_assessment(request: HttpRequest, pk: int) -> HttpResponse:
    lokus, _assignment = _own(request.user, pk)
    if not permissions.is_coordinator(request.user, lokus):
        raise PermissionDenied
    form = RiskForm(request.POST or None, instance=selectors.risk_mapping(lokus))

    def page(form) -> HttpResponse:
        return render(request, "lokus/risk_form.html", {"form": form, "lokus": lokus})

    if request.method == "GET":
        return page(form)
    return _act(
        request,
        form=form,
        run=lambda data, **offline: services.risk_record(
            user=request.user, lokus_id=lokus.pk, data={f: data[f] for f in RiskForm.Meta.fields}, **offline
        ),
        done=_risk_saved,
        then=reverse("lokus:assignment", args=[lokus.pk]) + "#status",
        invalid=page,
    )


@login_required
@require_POST
@outbox_answers
def check_in(request: HttpRequest, pk: int) -> HttpResponse:
    lokus, _assignment = _own(request.user, pk)
    position = PositionForm(request.POST)
    # A position the phone could not give (or gave garbled) is left out; starting matters more.
    where = position.cleaned_data if position.is_valid() else {}
    page = reverse("lokus:assignment", args=[lokus.pk])
    return _act(
        request,
        form=forms.Form(request.POST),  # nothing to check here but the outbox's fields
        run=lambda data, **offline: services.assignment_check_in(
            user=request.user,
            lokus_id=lokus.pk,
            latitude=where.get("latitude"),
            longitude=where.get("longitude"),
            **offline,
        ),
        done=lambda result: (messages.SUCCESS, _("Started. Stay safe; record what you see.")),
        then=page + "#field",
        invalid=lambda form: _back_with_errors(request, form, page),
    )


def _field_post(request, pk, form_class, run, success, files=False):
    lokus, _assignment = _own(request.user, pk)

    def page(form) -> HttpResponse:
        # Nothing typed is lost: the page is shown again with the text and the reasons.
        messages.error(request, _form_errors(form))
        context = {"form": form, "lokus": lokus, "action": request.path}
        return render(request, "lokus/field_form.html", context, status=400)

    return _act(
        request,
        form=form_class(request.POST, request.FILES if files else None),
        run=lambda data, **offline: run(lokus, data, **offline),
        done=lambda result: (messages.SUCCESS, success),
        then=reverse("lokus:assignment", args=[lokus.pk]) + "#field",
        invalid=page,
    )


@login_required
@require_POST
@outbox_answers
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _field_post(
        request,
        pk,
        FieldNoteForm,
        lambda lokus, data, **offline: services.field_note_add(
            user=request.user, lokus_id=lokus.pk, data=data, **offline
        ),
        _("Note saved."),
    )


@login_required
@require_POST
@outbox_answers
def media_add(request: HttpRequest, pk: int) -> HttpResponse:
    return _field_post(
        request,
        pk,
        MediaForm,
        lambda lokus, data, **offline: services.field_media_add(
            user=request.user,
            lokus_id=lokus.pk,
            kind=data["kind"],
            clean=data["clean"],
            caption=data["caption"],
            **offline,
        ),
        _("File uploaded."),
        files=True,
    )


@login_required
@require_http_methods(["GET", "POST"])
@outbox_answers
def member_report(request: HttpRequest, pk: int) -> HttpResponse:
    lokus, assignment = _own(request.user, pk)
    if request.method == "GET":
        if not assignment.in_the_field:
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
        lambda lokus, data, **offline: services.member_report_submit(
            user=request.user, lokus_id=lokus.pk, data=data, **offline
        ),
        _("Your report was submitted. Thank you."),
    )


def _emergency_contacts(user, lokus) -> list:
    """Whom the officer calls or texts when an alert cannot be sent: the Korlap of the lokus
    and the Kasubbid of its sub-division, those with a phone number, not the officer."""
    korlap = [a.member for a in lokus.assignments.filter(is_coordinator=True).select_related("member")]
    kasubbid = users_with_role(Role.KASUBBID, sub_division_id=lokus.sub_division_id).exclude(phone="")
    return [(_("Korlap"), person) for person in korlap if person.phone and person.pk != user.pk] + [
        (_("Kasubbid"), person) for person in kasubbid.order_by("full_name") if person.pk != user.pk
    ]


@login_required
@require_http_methods(["GET", "POST"])
@outbox_answers
def escalate(request: HttpRequest, pk: int) -> HttpResponse:
    lokus, _assignment = _own(request.user, pk)
    form = EscalationForm(request.POST or None)

    def page(form) -> HttpResponse:
        contacts = _emergency_contacts(request.user, lokus)
        return render(request, "lokus/escalation_form.html", {"form": form, "lokus": lokus, "contacts": contacts})

    if request.method == "GET":
        return page(form)
    alerted = _(
        "Alert sent to the coordinator, the Kasubbid and the Kabid. Withdraw to safety and coordinate with TNI/Polri."
    )
    return _act(
        request,
        form=form,
        run=lambda data, **offline: services.escalation_raise(
            user=request.user,
            lokus_id=lokus.pk,
            kind=data["kind"],
            message=data["message"],
            latitude=data.get("latitude"),
            longitude=data.get("longitude"),
            **offline,
        ),
        done=lambda result: (messages.WARNING, alerted),
        then=reverse("lokus:assignment", args=[lokus.pk]),
        invalid=page,
    )


def _seen_media(request: HttpRequest, pk: int, files: QuerySet[FieldMedia] | None = None) -> FieldMedia:
    """A field file of a lokus the user may see (404 otherwise), its viewing recorded in the
    access log when the lokus is Terbatas or Rahasia."""
    files = FieldMedia.objects.all() if files is None else files
    media = get_object_or_404(
        files.filter(assignment__lokus__in=permissions.lokus_for(request.user)).select_related("assignment__lokus"),
        pk=pk,
    )
    lokus = media.assignment.lokus
    record_access(request, AccessLog.Kind.FILE, lokus.pk, media.pk, lokus.classification)
    return media


@login_required
@require_GET
def media_file(request: HttpRequest, pk: int) -> HttpResponse:
    media = _seen_media(request, pk)
    inline = media.content_type.startswith(("image/", "video/")) or media.content_type == "application/pdf"
    return private_file(media.file, content_type=media.content_type, name=media.original_name, inline=inline)


@login_required
@require_GET
def media_thumbnail(request: HttpRequest, pk: int) -> HttpResponse:
    """The small copy of a photo that pages show, under the photo's own check and record."""
    media = _seen_media(request, pk, FieldMedia.objects.exclude(thumb_file=""))
    stem = media.original_name.rsplit(".", 1)[0]
    return private_file(media.thumb_file, content_type="image/jpeg", name=f"{stem}.jpg", inline=True)


@login_required
@require_http_methods(["GET", "POST"])
@outbox_answers
def berita_acara_add(request: HttpRequest, pk: int) -> HttpResponse:
    lokus, _assignment = _own(request.user, pk)
    form = BeritaAcaraForm(request.POST or None, lokus=lokus)

    def page(form) -> HttpResponse:
        return render(request, "lokus/berita_acara_form.html", {"form": form, "lokus": lokus})

    if request.method == "GET":
        return page(form)
    return _act(
        request,
        form=form,
        run=lambda data, **offline: services.berita_acara_add(
            user=request.user, lokus_id=lokus.pk, data=data, **offline
        ),
        done=lambda record: (messages.SUCCESS, _("Berita Acara recorded: %(title)s.") % {"title": record.title}),
        then=reverse("lokus:assignment", args=[lokus.pk]) + "#documents",
        invalid=page,
    )
