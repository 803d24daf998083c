"""SOP steps 2-5 as the office sees them: the lokus, its team, and its progress."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.enums import Role
from core.access import record_access
from core.errors import ActionRefused
from core.models import AccessLog
from core.views import paginate, refusals_to_messages
from lokus import permissions, selectors, services
from lokus.enums import Equipment, LokusState
from lokus.forms import LokusForm, TeamForm
from lokus.models import Escalation, FieldMedia, FieldNote, MemberReport
from lokus.panels import panels_for


def _may_list_lokus(user) -> bool:
    return user.has_perm("lokus.view_all_lokus") or user.has_perm("lokus.dispatch_lokus") or user.has_role(Role.MEMBER)


@login_required
@require_GET
def lokus_list(request: HttpRequest) -> HttpResponse:
    if not _may_list_lokus(request.user):
        raise PermissionDenied
    rows = (
        permissions.lokus_for(request.user)
        .select_related("plan", "sub_division")
        .annotate(team_size=Count("assignments"))
        .order_by("-starts_at", "-pk")
    )
    state = request.GET.get("state", "")
    if state in LokusState.values:
        rows = rows.filter(state=state)
    return render(
        request,
        "lokus/lokus_list.html",
        {"page": paginate(request, rows), "states": LokusState.choices, "filters": {"state": state}},
    )


def _visible_lokus(user, pk: int):
    return get_object_or_404(
        permissions.lokus_for(user).select_related("plan__kecamatan", "plan__kelurahan", "sub_division"), pk=pk
    )


@login_required
@require_GET
def lokus_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    lokus = _visible_lokus(user, pk)
    assignments = list(
        lokus.assignments.select_related("member__sub_division").prefetch_related("member__qualifications")
    )
    standards = selectors.step_standards()
    can_manage = permissions.can_manage_lokus(user, lokus)
    record_access(request, AccessLog.Kind.LOKUS, lokus.pk, lokus.pk, lokus.classification)
    return render(
        request,
        "lokus/lokus_detail.html",
        {
            "lokus": lokus,
            "plan": lokus.plan,
            "assignments": assignments,
            "my_assignment": next((a for a in assignments if a.member_id == user.pk), None)
            if permissions.assignment_of(user, lokus)
            else None,
            "risk": getattr(lokus, "risk_assessment", None),
            "timings": selectors.lokus_timings(lokus, assignments, standards),
            "timeline": selectors.plan_timeline(lokus.plan),
            "notes": FieldNote.objects.filter(assignment__lokus=lokus).select_related("assignment__member"),
            "media": FieldMedia.objects.filter(assignment__lokus=lokus).select_related("assignment__member"),
            "reports": MemberReport.objects.filter(assignment__lokus=lokus).select_related("assignment__member"),
            "escalations": Escalation.objects.filter(lokus=lokus).select_related("raised_by"),
            "can_manage": can_manage and lokus.state == LokusState.COMPOSING,
            "missing": lokus.missing_for_dispatch() if can_manage else [],
            "panels": panels_for(user, lokus),
            "berita_acara_list": lokus.berita_acara.all(),
            "can_record_ba": False,
            "equipment_labels": dict(Equipment.choices),
            "equipment_total": len(Equipment.choices),
        },
    )


def _managed(user, pk: int):
    lokus = _visible_lokus(user, pk)
    if not permissions.can_manage_lokus(user, lokus):
        raise PermissionDenied
    return lokus


@login_required
@require_http_methods(["GET", "POST"])
def lokus_edit(request: HttpRequest, pk: int) -> HttpResponse:
    lokus = _managed(request.user, pk)
    if lokus.state != LokusState.COMPOSING:
        messages.error(request, _("The team was already dispatched; the lokus can no longer be changed."))
        return redirect("lokus:detail", lokus.pk)
    initial = {}
    if not lokus.surat_tugas_number:
        initial["surat_tugas_number"] = services.suggest_surat_tugas_number(lokus)
    form = LokusForm(request.POST or None, instance=lokus, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.lokus_update(user=request.user, lokus_id=lokus.pk, data=form.cleaned_data)
        except ActionRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, _("The lokus details were saved."))
            return redirect("lokus:detail", lokus.pk)
    return render(request, "lokus/lokus_form.html", {"form": form, "lokus": lokus})


@login_required
@require_http_methods(["GET", "POST"])
def lokus_team(request: HttpRequest, pk: int) -> HttpResponse:
    lokus = _managed(request.user, pk)
    if lokus.state != LokusState.COMPOSING:
        messages.error(request, _("The team was already dispatched; the lokus can no longer be changed."))
        return redirect("lokus:detail", lokus.pk)
    candidates = services.candidate_members()
    current = list(lokus.assignments.all())
    initial = {
        "members": [a.member_id for a in current],
        "coordinator": next((a.member_id for a in current if a.is_coordinator), None),
    }
    form = TeamForm(request.POST or None, candidates=candidates, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.lokus_set_team(
                user=request.user,
                lokus_id=lokus.pk,
                members=list(form.cleaned_data["members"]),
                coordinator=form.cleaned_data["coordinator"],
            )
        except ActionRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            clashes = services.overlapping_assignments(lokus, [m.pk for m in form.cleaned_data["members"]])
            if clashes:
                messages.warning(
                    request,
                    _("Note: %(n)s officer(s) are also on another lokus at an overlapping time.") % {"n": len(clashes)},
                )
            messages.success(request, _("The team was saved."))
            return redirect("lokus:detail", lokus.pk)
    people = list(candidates)
    clashes = services.overlapping_assignments(lokus, [p.pk for p in people])
    rows = [
        {"user": p, "own": p.sub_division_id == lokus.sub_division_id, "clashes": clashes.get(p.pk, [])} for p in people
    ]
    rows.sort(key=lambda r: (not r["own"], r["user"].full_name))
    chosen = {str(v) for v in (form["members"].value() or [])}
    coordinator = str(form["coordinator"].value() or "")
    return render(
        request,
        "lokus/lokus_team.html",
        {"form": form, "lokus": lokus, "rows": rows, "chosen": chosen, "coordinator": coordinator},
    )


@login_required
@require_POST
@refusals_to_messages("lokus:detail")
def lokus_dispatch(request: HttpRequest, pk: int) -> HttpResponse:
    lokus = _managed(request.user, pk)
    services.lokus_dispatch(user=request.user, lokus_id=lokus.pk)
    messages.success(request, _("The lokus was sent to the team. Each member is notified."))
    return redirect("lokus:detail", lokus.pk)


@login_required
@require_GET
def access_log(request: HttpRequest) -> HttpResponse:
    """Who viewed or downloaded Terbatas and Rahasia objects: for the Kepala Badan."""
    if not permissions.may_view_access_log(request.user):
        raise PermissionDenied
    rows = selectors.access_records()
    kind = request.GET.get("kind", "")
    if kind in AccessLog.Kind.values:
        rows = rows.filter(kind=kind)
    return render(
        request,
        "lokus/access_log.html",
        {"page": paginate(request, rows, 50), "kinds": AccessLog.Kind.choices, "filters": {"kind": kind}},
    )
