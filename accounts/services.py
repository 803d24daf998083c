import logging
from collections.abc import Iterable

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import models, transaction
from django.utils.translation import gettext as _

from accounts.models import Notification, User

logger = logging.getLogger(__name__)


def _send(messages) -> None:
    try:
        send_mass_mail(messages)
    except Exception:
        # The in-app notification is already saved; a mail server outage must not undo it.
        logger.exception("Could not send %d notification e-mail(s)", len(messages))


def notify(recipients: Iterable[User], title: str, *, body: str = "", url: str = "", urgent: bool = False) -> int:
    """Create an in-app notification for each recipient and, after the transaction commits,
    e-mail them. The e-mail carries only the title and a link: field content stays in the
    product, where access is checked.

    Side effects: Notification rows; e-mail through Django's e-mail backend on commit."""
    people = {user.pk: user for user in recipients if user is not None and user.is_active}
    Notification.objects.bulk_create(
        Notification(recipient=user, title=title, body=body, url=url, is_urgent=urgent) for user in people.values()
    )
    site = getattr(settings, "SITE_URL", "").rstrip("/")
    messages = [
        (
            (_("[URGENT] ") if urgent else "") + f"Lokus: {title}",
            _("%(title)s\n\nOpen Lokus to see the details: %(url)s") % {"title": title, "url": f"{site}{url}"},
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )
        for user in people.values()
        if user.email
    ]
    if messages:
        transaction.on_commit(lambda: _send(messages))
    return len(people)


def users_with_role(role, **filters):
    return User.objects.filter(groups__name=role.value, is_active=True, **filters).distinct()


def user_end_sessions(user: User) -> None:
    """End every session of the user at once (their session hash changes). Side effects:
    the user's session_epoch is raised."""
    User.objects.filter(pk=user.pk).update(session_epoch=models.F("session_epoch") + 1)
    user.refresh_from_db(fields=["session_epoch"])


@transaction.atomic
def user_reset_two_factor(user: User) -> int:
    """For a lost phone: remove the user's authenticator and backup codes and end their
    sessions; at the next sign-in they enrol again if their role requires it."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    removed = TOTPDevice.objects.filter(user=user).delete()[0] + StaticDevice.objects.filter(user=user).delete()[0]
    user_end_sessions(user)
    return removed
