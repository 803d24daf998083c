from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from lokus import selectors as lokus_selectors
from reports import selectors as report_selectors


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Beranda: who is signed in, their roles, what awaits them, and what they may open.

    Each kind of work shows its first tasks by due time (``lokus.selectors.QUEUE_LIMIT`` rows
    at most), all kinds together overdue first; what does not fit is counted, with a link to
    the list that holds it, so that a long backlog never makes the page longer."""
    user = request.user
    queues = lokus_selectors.work_queues(user)
    reports = report_selectors.report_queue(user)
    if reports.total:
        queues.append(reports)
    return render(
        request,
        "home/home.html",
        {
            "roles": user.roles,
            "tasks": lokus_selectors.sort_tasks([task for queue in queues for task in queue.tasks]),
            "more": [queue for queue in queues if queue.rest],
            "escalations": lokus_selectors.recent_escalations(user),
            "my_plans": lokus_selectors.recent_own_plans(user),
        },
    )
