from functools import cached_property

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from accounts.enums import AgencyKind, MailStatus, Role
from accounts.validators import validate_nip, validate_phone
from core.models import StateModelMixin


class SubDivision(models.Model):
    """A sub-division (sub-bidang) of the Kesatuan Bangsa division: Wasdin or Wasbang."""

    code = models.SlugField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=120, unique=True)
    short_name = models.CharField(_("short name"), max_length=30)

    class Meta:
        verbose_name = _("sub-division")
        verbose_name_plural = _("sub-divisions")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.short_name})"


class Agency(models.Model):
    """A partner agency (Jajaran Samping) or source of activity plans."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=AgencyKind.choices)
    address = models.CharField(_("address"), max_length=300, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Qualification(models.Model):
    """An item of the SOP's officer qualifications (Kualifikasi Pelaksana)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    first_name = None
    last_name = None

    full_name = models.CharField(_("full name"), max_length=150)
    nip = models.CharField(
        _("NIP"),
        max_length=18,
        blank=True,
        validators=[validate_nip],
        help_text=_("Civil-servant number, 18 digits. Leave empty for non-civil-servants."),
    )
    position = models.CharField(_("position (jabatan)"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True, validators=[validate_phone])
    sub_division = models.ForeignKey(
        SubDivision,
        verbose_name=_("sub-division"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("partner agency"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        help_text=_("For partner users: the agency they report for."),
    )
    qualifications = models.ManyToManyField(Qualification, verbose_name=_("qualifications and trainings"), blank=True)
    # Part of every session's authentication hash: raising it ends all of the user's
    # sessions at once (deactivation, lost device, suspected compromise).
    session_epoch = models.PositiveIntegerField(default=0, editable=False)

    REQUIRED_FIELDS = ["email", "full_name"]

    objects = UserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["full_name", "username"]
        constraints = [models.UniqueConstraint(fields=["nip"], condition=~Q(nip=""), name="accounts_user_nip_unique")]

    def __str__(self) -> str:
        return self.full_name or self.username

    def get_full_name(self) -> str:
        return self.full_name

    def get_session_auth_hash(self) -> str:
        from django.utils.crypto import salted_hmac

        return salted_hmac(
            "accounts.User.get_session_auth_hash",
            f"{self.password}:{self.session_epoch}",
            algorithm="sha256",
        ).hexdigest()

    def get_session_auth_fallback_hash(self):
        from django.conf import settings
        from django.utils.crypto import salted_hmac

        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield salted_hmac(
                "accounts.User.get_session_auth_hash",
                f"{self.password}:{self.session_epoch}",
                secret=fallback_secret,
                algorithm="sha256",
            ).hexdigest()

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.username

    @cached_property
    def access(self) -> tuple[frozenset[str], frozenset[str]]:
        """The names of the user's role groups and their permissions (``app_label.codename``,
        their own and their groups'), read together in one query, once per request: every
        page asks both (the menu, the home page's kinds of work, each view's rule), and
        Django's backend would read the groups and the two kinds of permission apart.
        ``accounts.backends.ModelBackend`` answers ``has_perm`` from it."""
        from django.contrib.auth.models import Group, Permission

        nothing = Value(None, output_field=models.CharField())
        of_groups = (
            Group.objects.filter(user=self)
            .order_by()
            .values_list("name", "permissions__content_type__app_label", "permissions__codename")
        )
        own = (
            Permission.objects.filter(user=self).order_by().values_list(nothing, "content_type__app_label", "codename")
        )
        rows = list(of_groups.union(own, all=True))
        return (
            frozenset(name for name, _app, _codename in rows if name is not None),
            frozenset(f"{app}.{codename}" for _name, app, codename in rows if codename is not None),
        )

    @cached_property
    def role_names(self) -> frozenset[str]:
        """Names of the user's role groups, read once per request (``access``)."""
        if not self.is_active:
            return frozenset()
        return self.access[0]

    def has_role(self, *roles: Role) -> bool:
        return any(role in self.role_names for role in roles)

    @property
    def roles(self) -> list[Role]:
        return [role for role in Role if role in self.role_names]


class Notification(models.Model):
    """An in-app notification (the bell); e-mail copies are sent by the services."""

    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("message"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    is_urgent = models.BooleanField(_("urgent"), default=False)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            # The bell's list: newest first for one recipient, however many they hold.
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox"),
        ]

    def __str__(self) -> str:
        return self.title


class OutgoingMail(StateModelMixin, models.Model):
    """One e-mail copy of a notification, written in the same transaction as the notification
    and sent by a background worker (accounts.tasks.deliver_mail) with retries. The row is the
    record of the delivery: the task queue only carries its id."""

    recipient = models.ForeignKey(User, verbose_name=_("recipient"), on_delete=models.CASCADE, related_name="+")
    address = models.EmailField(_("address"))
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("message"))
    is_urgent = models.BooleanField(_("urgent"), default=False)
    status = FSMField(_("status"), default=MailStatus.QUEUED, choices=MailStatus.choices, protected=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # The error's kind and the server's answer, never the message or a credential.
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("queued at"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The retry sweep: queued mail whose attempt is due.
            models.Index(fields=["status", "next_attempt_at"], name="outgoingmail_due"),
        ]

    def __str__(self) -> str:
        return f"{self.address} ({self.get_status_display()})"

    @transition(field=status, source=MailStatus.QUEUED, target=MailStatus.SENT)
    def mark_sent(self, *, at) -> None:
        self.attempts += 1
        self.sent_at = at
        self.last_error = ""

    @transition(field=status, source=MailStatus.QUEUED, target=MailStatus.FAILED)
    def mark_failed(self, *, error: str) -> None:
        self.attempts += 1
        self.last_error = error

    @transition(field=status, source=MailStatus.FAILED, target=MailStatus.QUEUED)
    def requeue(self, *, at) -> None:
        """Send again (the administrator's action): a fresh round of attempts."""
        self.attempts = 0
        self.next_attempt_at = at


class RolePolicy(models.Model):
    """Sign-in rules of one role (group), set by the administrator."""

    group = models.OneToOneField("auth.Group", verbose_name=_("role"), on_delete=models.CASCADE, related_name="policy")
    requires_two_factor = models.BooleanField(_("two-factor sign-in required"), default=False)
    idle_timeout_minutes = models.PositiveSmallIntegerField(
        _("session ends after idle minutes"), default=30, validators=[MinValueValidator(5), MaxValueValidator(240)]
    )

    class Meta:
        verbose_name = _("role policy")
        verbose_name_plural = _("role policies")
        ordering = ["group__name"]

    def __str__(self) -> str:
        return self.group.name
