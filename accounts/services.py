from collections.abc import Iterable

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.enums import MailStatus
from accounts.models import Notification, OutgoingMail, User
from accounts.tasks import schedule_delivery


def notify(recipients: Iterable[User], title: str, *, body: str = "", url: str = "", urgent: bool = False) -> int:
    """Create an in-app notification for each recipient and queue an e-mail to each, in the
    caller's transaction: a rolled-back action notifies no one, a committed one e-mails
    everyone, through a background worker with retries (accounts.tasks.deliver_mail), urgent
    mail first. The e-mail carries only the title and a link: field content stays in the
    product, where access is checked.

    Side effects: Notification rows; OutgoingMail rows and their delivery jobs."""
    people = {user.pk: user for user in recipients if user is not None and user.is_active}
    Notification.objects.bulk_create(
        Notification(recipient=user, title=title, body=body, url=url, is_urgent=urgent) for user in people.values()
    )
    site = getattr(settings, "SITE_URL", "").rstrip("/")
    subject = (_("[URGENT] ") if urgent else "") + f"Lokus: {title}"
    text = _("%(title)s\n\nOpen Lokus to see the details: %(url)s") % {"title": title, "url": f"{site}{url}"}
    mails = OutgoingMail.objects.bulk_create(
        OutgoingMail(recipient=user, address=user.email, subject=subject[:300], body=text, is_urgent=urgent)
        for user in people.values()
        if user.email
    )
    schedule_delivery(mails)
    return len(people)


@transaction.atomic
def mail_send_again(mail_ids: Iterable[int]) -> int:
    """The administrator's "send again" for e-mails that failed after every retry: a fresh
    round of attempts, starting now. Mail that is queued or sent is left alone. Returns how
    many were queued again. Side effects: the rows queued, their delivery jobs."""
    mails = list(
        OutgoingMail.objects.select_for_update().filter(pk__in=list(mail_ids), status=MailStatus.FAILED).order_by("pk")
    )
    now = timezone.now()
    for mail in mails:
        mail.requeue(at=now)
        mail.save()
    schedule_delivery(mails)
    return len(mails)


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
