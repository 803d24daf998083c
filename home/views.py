from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from lokus import selectors as lokus_selectors
from reports import selectors as report_selectors


def due_label(task: lokus_selectors.Task, clock: lokus_selectors.WibClock | None = None) -> SafeString:
    """What ``lokus/_due.html`` shows for a task's due time, made in Python: the home page has
    up to a few dozen tiles, and an include with a translated block and three filters in
    each cost more than the rest of the page's template (the same text, the same markup).
    ``clock``: one for all the tiles of a page (the month names looked up once)."""
    due = task.due_at
    if not due:
        return mark_safe("")  # noqa: S308
    when = escape((clock or lokus_selectors.WibClock()).short(due))
    if task.overdue:
        text = gettext("Overdue: due %(when)s (%(ago)s ago)") % {"when": when, "ago": escape(timesince(due))}
        return format_html('<span class="overdue">{}</span>', mark_safe(text))  # noqa: S308
    text = gettext("Due %(when)s (in %(left)s)") % {"when": when, "left": escape(timeuntil(due))}
    return format_html('<span class="due-ok">{}</span>', mark_safe(text))  # noqa: S308


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
    tasks = lokus_selectors.sort_tasks([task for queue in queues for task in queue.tasks])
    clock = lokus_selectors.WibClock()
    return render(
        request,
        "home/home.html",
        {
            "roles": user.roles,
            "tasks": tasks,
            "tiles": [(task, due_label(task, clock)) for task in tasks],
            "more": [queue for queue in queues if queue.rest],
            "escalations": lokus_selectors.recent_escalations(user),
            "my_plans": lokus_selectors.recent_own_plans(user),
        },
    )
