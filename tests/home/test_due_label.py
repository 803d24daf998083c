"""The home page's tiles show their due time as ``lokus/_due.html`` does everywhere else, but
made in Python (``home.views.due_label``: a few dozen includes cost more than the rest of the
page). The two must say the same thing, in both languages."""

from datetime import timedelta

import pytest
import time_machine
from django.template.loader import render_to_string
from django.utils import timezone, translation

from home.views import due_label
from lokus.selectors import Task

NOW = timezone.now().replace(microsecond=0)
DUE = [
    None,
    NOW + timedelta(minutes=25),
    NOW + timedelta(hours=3, minutes=10),
    NOW - timedelta(minutes=5),
    NOW - timedelta(days=400, hours=2),
]


@pytest.mark.parametrize("language", ["id", "en"])
@pytest.mark.parametrize("due", DUE)
def test_the_tile_says_what_the_shared_due_template_says(language, due):
    task = Task("a plan", "what to do", "/", due)
    with time_machine.travel(NOW, tick=False), translation.override(language):
        shared = render_to_string("lokus/_due.html", {"due": task.due_at, "overdue": task.overdue})
        assert str(due_label(task)) == shared.strip()
