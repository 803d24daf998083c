from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from lokus import selectors as lokus_selectors
from reports import selectors as report_selectors


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Beranda: who is signed in, their roles, what awaits them, and what they may open."""
    user = request.user
    return render(
        request,
        "home/home.html",
        {
            "roles": user.roles,
            "tasks": lokus_selectors.sort_tasks(lokus_selectors.work_queue(user) + report_selectors.report_tasks(user)),
            "escalations": lokus_selectors.recent_escalations(user),
            "my_plans": lokus_selectors.recent_own_plans(user),
        },
    )
