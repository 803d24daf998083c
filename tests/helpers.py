"""Helpers shared by the test modules (fixtures live in the conftest.py files)."""

import threading

from django.db import connection

from accounts.models import User

# The cast of tests/conftest.py in the order of the permission grids' columns; None is the
# anonymous visitor.
ROLES = [
    None,
    "partner",
    "other_partner",
    "kasubbid",
    "other_kasubbid",
    "member",
    "coordinator",
    "other_member",
    "kabid",
    "kaban",
    "admin",
    "norole",
]

# The signed-in cast (every role but the anonymous visitor).
CAST = [role for role in ROLES if role is not None]

RACE_TIMEOUT = 30  # seconds; only reached if a thread hangs, never waited for otherwise


def race(*actions) -> list:
    """Run the actions in parallel threads released together by a barrier. Returns, in
    order, each one's result or the exception it raised."""
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def run(index, action):
        try:
            barrier.wait(timeout=RACE_TIMEOUT)
            outcomes[index] = action()
        except Exception as exc:  # collected and asserted on by the test
            outcomes[index] = exc
        finally:
            connection.close()  # each thread has its own connection; leave none open

    threads = [threading.Thread(target=run, args=(i, action)) for i, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=RACE_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a thread hung (deadlock?)"
    return outcomes


def as_user(user):
    """A fresh copy of the user for another thread: no permission caches shared between threads."""
    return User.objects.get(pk=user.pk)
