"""SOP steps 2-5 as the office sees them: the lokus, its team, and its progress."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.access import record_access
from core.errors import ActionRefused
from core.models import AccessLog
from core.views import paginate, refusals_to_messages
from lokus import permissions, selectors, services
from lokus.enums import Equipment
from lokus.forms import AccessLogFilterForm, LokusFilterForm, LokusForm, TeamForm
from lokus.panels import panels_for


@login_required
@require_GET
def lokus_list(request: HttpRequest) -> HttpResponse:
    if not permissions.may_list_lokus(request.user):
        raise PermissionDenied
    filters = LokusFilterForm(request.GET)
    page = paginate(request, filters.apply(selectors.lokus_rows(request.user)))
    rows = selectors.labelled(page.object_list, "classification", "state")
    page.object_list = selectors.dated(selectors.linked(rows, "lokus:detail"), "starts_at")
    return render(request, "lokus/lokus_list.html", {"page": page, "filters": filters})


def _visible_lokus(user, pk: int):
    return get_object_or_404(selectors.visible_lokus(user), pk=pk)


@login_required
@require_GET
def lokus_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    # The risk mapping (a reverse one-to-one) and who recorded it, in the same query.
    lokus = get_object_or_404(
        selectors.visible_lokus(user).select_related("risk_assessment__recorded_by"),
        pk=pk,
    )
    can_manage = permissions.can_manage_lokus(user, lokus)
    record_access(request, AccessLog.Kind.LOKUS, lokus.pk, lokus.pk, lokus.classification)
    return render(
        request,
        "lokus/lokus_detail.html",
        {
            **selectors.lokus_page(user, lokus),
            "lokus": lokus,
            "plan": lokus.plan,
            "can_manage": can_manage and lokus.is_composing,
            "missing": lokus.missing_for_dispatch() if can_manage else [],
            "panels": panels_for(user, lokus),
            "can_record_ba": False,
            "equipment_labels": dict(Equipment.choices),
            "equipment_total": len(Equipment.choices),
        },
    )


def _changeable(user, pk: int):
    """The lokus of a page that changes it: 404 unseen, 403 not its Kasubbid, and back to
    the lokus with the service's reason once the team was dispatched."""
    lokus = _visible_lokus(user, pk)
    if not permissions.can_manage_lokus(user, lokus):
        raise PermissionDenied
    services.ensure_composing(lokus)
    return lokus


@login_required
@require_http_methods(["GET", "POST"])
@refusals_to_messages("lokus:detail")
def lokus_edit(request: HttpRequest, pk: int) -> HttpResponse:
    lokus = _changeable(request.user, pk)
    initial = {}
    if not lokus.surat_tugas_number:
        initial["surat_tugas_number"] = selectors.suggest_surat_tugas_number(lokus)
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
@refusals_to_messages("lokus:detail")
def lokus_team(request: HttpRequest, pk: int) -> HttpResponse:
    lokus = _changeable(request.user, pk)
    candidates = selectors.candidate_members()
    form = TeamForm(request.POST or None, candidates=candidates, initial=selectors.current_team(lokus))
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
            clashes = selectors.overlapping_assignments(lokus, [m.pk for m in form.cleaned_data["members"]])
            if clashes:
                messages.warning(
                    request,
                    _("Note: %(n)s officer(s) are also on another lokus at an overlapping time.") % {"n": len(clashes)},
                )
            messages.success(request, _("The team was saved."))
            return redirect("lokus:detail", lokus.pk)
    rows = selectors.team_picker_rows(lokus, candidates)
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
    lokus = _visible_lokus(request.user, pk)
    services.lokus_dispatch(user=request.user, lokus_id=lokus.pk)
    messages.success(request, _("The lokus was sent to the team. Each member is notified."))
    return redirect("lokus:detail", lokus.pk)


@login_required
@require_GET
def access_log(request: HttpRequest) -> HttpResponse:
    """Who viewed or downloaded Terbatas and Rahasia objects: for the Kepala Badan."""
    if not permissions.may_view_access_log(request.user):
        raise PermissionDenied
    filters = AccessLogFilterForm(request.GET)
    page = paginate(request, filters.apply(selectors.access_records()), 50)
    rows = selectors.labelled(page.object_list, "kind", "classification")
    page.object_list = selectors.dated(rows, "created_at", style="stamp")
    return render(request, "lokus/access_log.html", {"page": page, "filters": filters})
