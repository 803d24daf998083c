from contextlib import contextmanager

from django_fsm import ConcurrentTransition, TransitionNotAllowed


class ActionRefused(Exception):
    """A business rule refused the action; the message is for the user, already translated."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@contextmanager
def lost_race(message):
    """Turn a transition that is no longer possible (someone else acted first, in another
    tab or on another phone) into a clear refusal instead of a server error."""
    try:
        yield
    except (TransitionNotAllowed, ConcurrentTransition):
        raise ActionRefused(message) from None
