"""SOP steps 1-2: activity plans, the Kasubbid's decision, and the calendar."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.errors import ActionRefused
from core.views import paginate, private_file, refusals_to_messages
from lokus import permissions, selectors, services
from lokus.enums import PlanCategory, PlanStatus
from lokus.forms import NotChosenForm, PlanForm
from lokus.models import Kecamatan, Kelurahan, PlanAttachment


def _plans_or_403(user):
    if not (permissions.can_submit_plan(user) or user.has_perm("lokus.view_activityplan")):
        raise PermissionDenied
    return permissions.plans_for(user)


@login_required
@require_GET
def plan_list(request: HttpRequest) -> HttpResponse:
    plans = _plans_or_403(request.user).select_related("kecamatan", "kelurahan", "source_agency", "lokus")
    status = request.GET.get("status", "")
    if status in PlanStatus.values:
        plans = plans.filter(status=status)
    kecamatan = request.GET.get("kecamatan", "")
    if kecamatan.isdigit():
        plans = plans.filter(kecamatan_id=kecamatan)
    query = request.GET.get("q", "").strip()[:100]
    if query:
        plans = plans.filter(Q(title__icontains=query) | Q(organiser__icontains=query) | Q(address__icontains=query))
    when = request.GET.get("when", "upcoming")
    if when == "upcoming":
        plans = plans.filter(ends_at__gte=timezone.now()).order_by("starts_at", "pk")
    else:
        plans = plans.order_by("-starts_at", "-pk")
    return render(
        request,
        "lokus/plan_list.html",
        {
            "page": paginate(request, plans),
            "statuses": PlanStatus.choices,
            "kecamatan_list": Kecamatan.objects.all(),
            "filters": {"status": status, "kecamatan": kecamatan, "q": query, "when": when},
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
    can_decide = permissions.can_decide_plans(user) and plan.status == PlanStatus.RECEIVED
    staff = user.has_perm("lokus.view_activityplan")
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
    if not permissions.can_decide_plans(request.user):
        raise PermissionDenied
    lokus = services.plan_choose(user=request.user, plan_id=plan.pk)
    messages.success(request, _("The plan is now a lokus of your sub-division. Complete it and compose the team."))
    return redirect("lokus:detail", lokus.pk)


@login_required
@require_POST
@refusals_to_messages("lokus:plan_detail")
def plan_not_chosen(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(permissions.plans_for(request.user), pk=pk)
    if not permissions.can_decide_plans(request.user):
        raise PermissionDenied
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
    """The kelurahan of one kecamatan as <option>s, for the plan form (htmx)."""
    kecamatan = request.GET.get("kecamatan", "")
    kelurahan = Kelurahan.objects.filter(kecamatan_id=kecamatan) if kecamatan.isdigit() else Kelurahan.objects.none()
    return render(request, "lokus/_kelurahan_options.html", {"kelurahan": kelurahan})


def _parse_day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except (TypeError, ValueError):
        return timezone.localdate()


@login_required
@require_GET
def plan_calendar(request: HttpRequest) -> HttpResponse:
    """Upcoming plans by day or week, so that clashes are visible. Kesbangpol staff only
    (as the menu offers it): a partner follows their own plans in the plan list."""
    if not request.user.has_perm("lokus.view_activityplan"):
        raise PermissionDenied
    plans = permissions.plans_for(request.user)
    mode = "day" if request.GET.get("mode") == "day" else "week"
    day = _parse_day(request.GET.get("date", ""))
    first = day if mode == "day" else day - datetime.timedelta(days=day.weekday())
    length = 1 if mode == "day" else 7
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(first, datetime.time.min, tzinfo=tz)
    end = start + datetime.timedelta(days=length)
    shown = list(
        plans.filter(starts_at__lt=end, ends_at__gt=start)
        .exclude(status=PlanStatus.NOT_CHOSEN)
        .select_related("kecamatan")
        .order_by("starts_at", "pk")
    )
    clashes = selectors.overlapping_plan_ids(shown)
    days = []
    for offset in range(length):
        date = first + datetime.timedelta(days=offset)
        day_start = datetime.datetime.combine(date, datetime.time.min, tzinfo=tz)
        day_end = day_start + datetime.timedelta(days=1)
        days.append(
            {
                "date": date,
                "today": date == timezone.localdate(),
                "plans": [p for p in shown if p.starts_at < day_end and p.ends_at > day_start],
            }
        )
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
