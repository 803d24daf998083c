"""SOP steps 1-2: activity plans, the Kasubbid's decision, and the calendar."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import ActionRefused
from core.params import int_param
from core.validators import in_range
from core.views import paginate, private_file, refusals_to_messages
from lokus import permissions, selectors, services
from lokus.enums import PlanCategory
from lokus.forms import NotChosenForm, PlanFilterForm, PlanForm
from lokus.models import Kelurahan, PlanAttachment


def _plans_or_403(user):
    if not permissions.may_list_plans(user):
        raise PermissionDenied
    return permissions.plans_for(user)


@login_required
@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    filters = PlanFilterForm(request.GET)
    plans = filters.apply(
        _plans_or_403(request.user)
        .select_related("kecamatan", "kelurahan", "source_agency")
        # What the list shows, not the plans' descriptions and contacts.
        .only(
            "title",
            "category",
            "expected_participants",
            "starts_at",
            "ends_at",
            "status",
            "source_name",
            "kecamatan__name",
            "kelurahan__name",
            "source_agency__name",
        )
    )
    page = paginate(request, plans)
    rows = selectors.labelled(page.object_list, "category", "status")
    page.object_list = selectors.dated(selectors.linked(rows, "lokus:plan_detail"), "starts_at")
    return render(
        request,
        "lokus/plan_list.html",
        {
            "page": page,
            "filters": filters,
            "can_submit": permissions.can_submit_plan(request.user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def plan_create(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not permissions.can_submit_plan(user):
        raise PermissionDenied
    on_behalf = permissions.submits_on_behalf(user)
    form = PlanForm(request.POST or None, request.FILES or None, on_behalf=on_behalf)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = services.plan_submit(
                user=user,
                data=data,
                attachments=data["attachments"],
                source_agency=data.get("source_agency"),
                source_name=data.get("source_name", ""),
            )
        except ActionRefused as refusal:
            form.add_error(None, refusal.message)
        else:
            messages.success(request, _("The activity plan was sent to Kesbangpol. Thank you."))
            return redirect("lokus:plan_detail", plan.pk)
    return render(request, "lokus/plan_form.html", {"form": form, "on_behalf": on_behalf})


@login_required
@require_GET
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    plan = get_object_or_404(
        permissions.plans_for(user).select_related(
            "kecamatan", "kelurahan", "source_agency", "submitted_by", "decided_by"
        ),
        pk=pk,
    )
    lokus = getattr(plan, "lokus", None)
    # The decision buttons show exactly when a transition is open to this user now.
    can_decide = any(plan.get_available_user_status_transitions(user))
    staff = permissions.sees_all_plans(user)
    return render(
        request,
        "lokus/plan_detail.html",
        {
            "plan": plan,
            "attachments": plan.attachments.all(),
            "lokus": lokus if lokus and permissions.can_view_lokus(user, lokus) else None,
            "can_decide": can_decide,
            "not_chosen_form": NotChosenForm(),
            "timing": selectors.plan_decision_timing(plan, selectors.step_standards()) if staff else None,
            "timeline": selectors.plan_timeline(plan) if staff else None,
            "staff": staff,
        },
    )


@login_required
@require_POST
@refusals_to_messages("lokus:plan_detail")
def plan_choose(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(permissions.plans_for(request.user), pk=pk)
    lokus = services.plan_choose(user=request.user, plan_id=plan.pk)
    messages.success(request, _("The plan is now a lokus of your sub-division. Complete it and compose the team."))
    return redirect("lokus:detail", lokus.pk)


@login_required
@require_POST
@refusals_to_messages("lokus:plan_detail")
def plan_not_chosen(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(permissions.plans_for(request.user), pk=pk)
    if not permissions.can_decide_plan(request.user, plan):
        raise PermissionDenied  # before the form: whoever may not decide gets no form errors
    form = NotChosenForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["reason"]))
        return redirect("lokus:plan_detail", plan.pk)
    services.plan_mark_not_chosen(user=request.user, plan_id=plan.pk, reason=form.cleaned_data["reason"])
    messages.success(request, _("The plan was marked not chosen; the sender is notified."))
    return redirect("lokus:plan_detail", plan.pk)


@login_required
@require_GET
def plan_attachment(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = get_object_or_404(PlanAttachment.objects.filter(plan__in=permissions.plans_for(request.user)), pk=pk)
    inline = attachment.content_type.startswith("image/") or attachment.content_type == "application/pdf"
    return private_file(
        attachment.file, content_type=attachment.content_type, name=attachment.original_name, inline=inline
    )


@login_required
@require_GET
def kelurahan_options(request: HttpRequest) -> HttpResponse:
    """The kelurahan of one kecamatan as <option>s. The plan form no longer asks for them (its
    page holds every kelurahan and narrows the list itself, static/js/lokus.js); kept for
    pages that fetch a kecamatan's list with htmx."""
    kecamatan = int_param(request.GET, "kecamatan")
    kelurahan = Kelurahan.objects.filter(kecamatan_id=kecamatan) if kecamatan else Kelurahan.objects.none()
    return render(request, "lokus/_kelurahan_options.html", {"kelurahan": kelurahan})


def _parse_day(value: str) -> datetime.date:
    """The day asked for, if it is a date in the sane range (core/validators.py), else today.
    The range keeps the week around it, and the weeks before and after, far from the limits
    of Python's dates (9999-12-31 or 0001-01-01 would overflow)."""
    try:
        day = datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return timezone.localdate()
    return day if in_range(day) else timezone.localdate()


@login_required
@require_GET
def plan_calendar(request: HttpRequest) -> HttpResponse:
    """Upcoming plans by day or week, so that clashes are visible. Kesbangpol staff only
    (as the menu offers it): a partner follows their own plans in the plan list."""
    if not permissions.sees_all_plans(request.user):
        raise PermissionDenied
    mode = "day" if request.GET.get("mode") == "day" else "week"
    day = _parse_day(request.GET.get("date", ""))
    first = day if mode == "day" else day - datetime.timedelta(days=day.weekday())
    length = 1 if mode == "day" else 7
    per_day = selectors.CALENDAR_PER_DAY_VIEW if mode == "day" else selectors.CALENDAR_PER_DAY
    days, clashes = selectors.plan_calendar(request.user, first, length, per_day)
    step = datetime.timedelta(days=length)
    return render(
        request,
        "lokus/plan_calendar.html",
        {
            "days": days,
            "mode": mode,
            "first": first,
            "last": first + datetime.timedelta(days=length - 1),
            "previous": first - step,
            "next": first + step,
            "clashes": clashes,
            "categories": PlanCategory,
        },
    )
