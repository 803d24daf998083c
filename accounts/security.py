"""Sign-in and session protections: brute-force cool-offs, request size, caching, session
timeouts and two-factor enforcement. Policies per role live in ``RolePolicy`` (admin)."""

import datetime
import math

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_http_accept, get_client_path_info, get_client_user_agent, get_client_username
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db import transaction
from django.db.models import Max, Min
from django.shortcuts import redirect, render
from django.urls import get_resolver, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# Still importable from here as accounts.security.client_ip, the name older settings used.
from core.net import client_ip

# Cool-off tiers: failures of one username from one address in the last 24 hours.
COOLOFF_TIERS = [(20, datetime.timedelta(hours=24)), (10, datetime.timedelta(hours=2))]
FIRST_COOLOFF = datetime.timedelta(minutes=15)
FAILURE_WINDOW = datetime.timedelta(hours=24)

# Per account, whatever the addresses: 20 failures of one username within an hour lock it for
# an hour. Someone guessing from many addresses (a botnet, or a new X-Forwarded-For on every
# try) stays under the per-address limit of 5; 20 is four such lockouts, far more typos than
# one person makes, and an hour is long enough to make guessing useless (at most 19 tries an
# hour) and short enough for an officer locked out on purpose to wait it out.
ACCOUNT_FAILURE_LIMIT = 20
ACCOUNT_FAILURE_WINDOW = datetime.timedelta(hours=1)
ACCOUNT_COOLOFF = datetime.timedelta(hours=1)
# The access-attempt row that counts one username's failures from every address: it has no
# address and this instead of a browser name. The administrator lifts the account's lockout by
# deleting it in the admin (Axes > Access attempts), as for an address lockout.
ACCOUNT_WIDE = "(every address)"


def code_path() -> str:
    """The sign-in code page as axes' logs record paths (PATH_INFO: no SCRIPT_NAME prefix)."""
    return "/" + get_resolver().reverse("two_factor_verify")


def is_code_failure(failure: AccessFailureLog) -> bool:
    return failure.path_info == code_path()


def password_failures():
    """django-axes' failure log without the wrong sign-in codes, which it also holds
    (``record_code_failure``): the password lockouts count passwords only."""
    return AccessFailureLog.objects.exclude(path_info=code_path())


def axes_cooloff(request) -> datetime.timedelta:
    """Escalating cool-off: 15 minutes, then 2 hours from 10 failures, 24 hours from 20,
    counted per username and address together (colleagues behind one carrier IP are not
    locked out by someone else's mistakes)."""
    if request is None:
        return FIRST_COOLOFF
    username = (request.POST.get(settings.AXES_USERNAME_FORM_FIELD) or "").strip() if request.method == "POST" else ""
    if not username:
        return FIRST_COOLOFF
    logged = password_failures().filter(username=username, ip_address=client_ip(request))
    latest = logged.aggregate(latest=Max("attempt_time"))["latest"]
    # Counted back from the latest failure rather than from now: a 24-hour lockout lasts 24
    # hours although its first failures leave the 24-hour window before it ends.
    failures = logged.filter(attempt_time__gte=latest - FAILURE_WINDOW).count() if latest else 0
    for threshold, cooloff in COOLOFF_TIERS:
        if failures >= threshold:
            return cooloff
    return FIRST_COOLOFF


class AxesHandler(AxesDatabaseHandler):
    """django-axes' database handler with cool-offs that differ per account, a limit per
    account whatever the addresses, and the account holder told of failed attempts.

    Axes deletes every attempt older than the cool-off of the request at hand, so anyone's
    sign-in, sign-out or typo would lift another account's 2- or 24-hour lockout after 15
    minutes. Here a request expires only its own username and address at its own cool-off,
    and everyone else's attempts only after the longest cool-off.

    Axes' own way to lock a username from every address (``"username"`` added to
    AXES_LOCKOUT_PARAMETERS) shares the failure limit of 5 and the cool-off of the address
    lockout, so every carrier address shared by many phones would lock whole accounts after
    5 failures; the account limit is counted here instead, over axes' failure log (which
    keeps the time of every failure), with its own limit and lockout."""

    def clean_expired_user_attempts(self, request=None, credentials=None) -> int:
        longest = max(cooloff for _threshold, cooloff in COOLOFF_TIERS)
        count = AccessAttempt.objects.filter(attempt_time__lte=timezone.now() - longest).delete()[0]
        if request is not None and getattr(request, "axes_attempt_time", None) is not None:
            threshold = get_cool_off_threshold(request)
            for attempts in self.filter_user_attempts(request, credentials):
                count += attempts.filter(attempt_time__lte=threshold).delete()[0]
        return count

    def is_locked(self, request, credentials=None) -> bool:
        if super().is_locked(request, credentials):
            return True
        username = get_client_username(request, credentials)
        return bool(username) and account_locked_until(username, _attempt_time(request)) is not None

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        # Set by the backend when it refused a locked-out attempt; axes records nothing then.
        refused = request is not None and getattr(request, "axes_locked_out", False)
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or refused or self.is_whitelisted(request, credentials):
            return
        username = get_client_username(request, credentials)
        if username and account_failure_recorded(username, request):
            request.axes_locked_out = True
            request.axes_credentials = credentials

    def user_logged_in(self, sender, request, user, **kwargs):
        # Before axes records this sign-in: the failures are counted since the previous one.
        tell_failures_since_last_sign_in(request, user.get_username())
        super().user_logged_in(sender, request, user, **kwargs)


def _attempt_time(request) -> datetime.datetime:
    return getattr(request, "axes_attempt_time", None) or timezone.now()


def account_attempts(username: str):
    """The row counting the username's failures from every address (one, barring a race)."""
    return AccessAttempt.objects.filter(username=username, ip_address__isnull=True, user_agent=ACCOUNT_WIDE)


def is_account_wide(attempt: AccessAttempt) -> bool:
    return attempt.ip_address is None and attempt.user_agent == ACCOUNT_WIDE


def account_locked_until(username: str, now: datetime.datetime) -> datetime.datetime | None:
    """The end of the username's account-wide lockout, or None when it is not locked."""
    latest = (
        account_attempts(username)
        .filter(failures_since_start__gte=ACCOUNT_FAILURE_LIMIT, attempt_time__gt=now - ACCOUNT_COOLOFF)
        .aggregate(start=Max("attempt_time"))["start"]
    )
    return latest + ACCOUNT_COOLOFF if latest else None


def account_failure_recorded(username: str, request) -> bool:
    """Count the failure axes just logged against the username's account-wide row, and lock
    the account when it is the 20th within an hour. Returns whether the account is locked.

    The row's time is where counting starts: the first failure still in the window, or,
    once locked, the start of the lockout (failures before a lockout do not count again
    after it). Deleting the row (the administrator lifting the lockout) starts the count
    afresh. Side effects: creates or updates the row."""
    now = _attempt_time(request)
    with transaction.atomic():
        row = account_attempts(username).select_for_update().order_by("-attempt_time").first()
        if row is None:
            row = AccessAttempt.objects.create(
                username=username,
                ip_address=None,
                user_agent=ACCOUNT_WIDE,
                get_data="",
                post_data="",
                http_accept="",
                path_info=request.axes_path_info,
                failures_since_start=0,
                attempt_time=now,
            )
        failures = password_failures().filter(username=username, attempt_time__gte=now - ACCOUNT_FAILURE_WINDOW)
        if row.failures_since_start >= ACCOUNT_FAILURE_LIMIT:
            if row.attempt_time > now - ACCOUNT_COOLOFF:
                return True
            failures = failures.filter(attempt_time__gt=row.attempt_time)
        else:
            failures = failures.filter(attempt_time__gte=row.attempt_time)
        count = failures.count()
        locked = count >= ACCOUNT_FAILURE_LIMIT
        row.failures_since_start = count
        row.attempt_time = now if locked else (failures.aggregate(first=Min("attempt_time"))["first"] or now)
        row.save(update_fields=["failures_since_start", "attempt_time"])
    return locked


def tell_failures_since_last_sign_in(request, username: str) -> None:
    """Tell the account holder, as they sign in, how many failed attempts there were on their
    account (wrong passwords from any address, and wrong sign-in codes) since their previous
    sign-in, so that someone else's guessing does not go unnoticed."""
    if request is None:
        return
    previous = AccessLog.objects.filter(username=username).aggregate(latest=Max("attempt_time"))["latest"]
    failures = AccessFailureLog.objects.filter(username=username)
    if previous is not None:
        failures = failures.filter(attempt_time__gt=previous)
    count = failures.count()
    if count:
        messages.warning(
            request,
            ngettext(
                "There was %(n)s failed sign-in attempt on your account since your last sign-in. "
                "If it was not you, change your password.",
                "There were %(n)s failed sign-in attempts on your account since your last sign-in. "
                "If they were not yours, change your password.",
                count,
            )
            % {"n": count},
            fail_silently=True,
        )


class RequestSizeLimitMiddleware:
    """Refuse an oversized request with a clear 413 page before Django reads its body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            return render(
                request,
                "413.html",
                {"limit_mb": settings.MAX_REQUEST_BYTES // (1024 * 1024)},
                status=413,
            )
        return self.get_response(request)


class NoStoreMiddleware:
    """Pages and files seen by a signed-in user carry intelligence: no browser or proxy
    may keep a copy. A view whose response holds nothing of the user's (the service worker's
    script) says so with ``response.holds_no_user_data = True`` and keeps its own caching."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if getattr(response, "holds_no_user_data", False):
            return response
        if user is not None and user.is_authenticated and "no-store" not in response.get("Cache-Control", ""):
            response["Cache-Control"] = "private, no-store"
            response["Pragma"] = "no-cache"
        return response


SESSION_LOGIN_AT = "lokus_login_at"
SESSION_LAST_SEEN = "lokus_last_seen"
LAST_SEEN_PRECISION = 60  # seconds: the session is written at most once a minute for this


SESSION_POLICY = "lokus_policy"
POLICY_REFRESH = 300  # seconds: a role's policy changed in the admin applies within 5 minutes


def _compute_policy(user) -> dict:
    from accounts.models import RolePolicy

    policies = list(RolePolicy.objects.filter(group__user=user).values("idle_timeout_minutes", "requires_two_factor"))
    idle = min((p["idle_timeout_minutes"] for p in policies), default=settings.SESSION_IDLE_MINUTES)
    return {
        "idle": idle,
        "two_factor": any(p["requires_two_factor"] for p in policies),
        "device": has_device(user),
        "at": int(timezone.now().timestamp()),
    }


def policy(request) -> dict:
    """The signed-in user's session policy (idle minutes, two-factor required), kept in the
    session so that a page costs no extra query."""
    cached = request.session.get(SESSION_POLICY)
    now = int(timezone.now().timestamp())
    if not cached or now - cached.get("at", 0) > POLICY_REFRESH:
        cached = _compute_policy(request.user)
        request.session[SESSION_POLICY] = cached
    return cached


def mark_login(sender, request, user, **kwargs) -> None:
    """Start the session clocks and read the role policy at sign-in (user_logged_in signal)."""
    if request is None or not hasattr(request, "session"):
        return
    now = int(timezone.now().timestamp())
    request.session[SESSION_LOGIN_AT] = now
    request.session[SESSION_LAST_SEEN] = now
    request.session[SESSION_POLICY] = _compute_policy(user)


class SessionTimeoutMiddleware:
    """End a session after its role's idle time (30 minutes, 15 for Kabid, Kepala Badan and
    Administrator) and after 12 hours in all, whatever the activity."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            now = int(timezone.now().timestamp())
            session = request.session
            login_at = session.setdefault(SESSION_LOGIN_AT, now)
            last_seen = session.setdefault(SESSION_LAST_SEEN, now)
            expired = (
                now - login_at > settings.SESSION_ABSOLUTE_HOURS * 3600
                or now - last_seen > policy(request)["idle"] * 60
            )
            if expired:
                logout(request)
                messages.info(request, _("Your session ended for safety. Please sign in again."))
                return redirect(f"{reverse('login')}?next={request.path}")
            if now - last_seen >= LAST_SEEN_PRECISION:
                session[SESSION_LAST_SEEN] = now
        return self.get_response(request)


# Pages a signed-in user may open before the second factor is verified.
TWO_FACTOR_OPEN = ("two_factor_verify", "two_factor_setup", "logout", "set_language")


def has_device(user) -> bool:
    from django_otp import user_has_device

    return user_has_device(user, confirmed=True)


def code_throttled_until(user) -> datetime.datetime | None:
    """When the user may give a sign-in code again, or None when they may now.

    django-otp slows down guessing on each device: after n wrong codes it refuses every code,
    the right one too, for 2^(n-1) seconds (OTP_TOTP_THROTTLE_FACTOR). A wrong code counts on
    every device (the authenticator app and the backup codes), so both wait alike."""
    from django_otp import devices_for_user

    waits = []
    for device in devices_for_user(user, confirmed=True):
        allowed, details = device.verify_is_allowed()
        if allowed:
            return None
        if until := (details or {}).get("locked_until"):
            waits.append(until)
    return min(waits, default=None)


def code_wait_message(until: datetime.datetime) -> str:
    """'Wait n seconds' or 'wait n minutes (until 08:35)', rounded up."""
    seconds = max(1, math.ceil((until - timezone.now()).total_seconds()))
    if seconds < 60:
        return ngettext(
            "Too many wrong codes. Wait %(n)s second and try again.",
            "Too many wrong codes. Wait %(n)s seconds and try again.",
            seconds,
        ) % {"n": seconds}
    minutes = math.ceil(seconds / 60)
    at = timezone.localtime(timezone.now() + datetime.timedelta(minutes=minutes))
    return ngettext(
        "Too many wrong codes. Wait %(n)s minute (until %(time)s) and try again.",
        "Too many wrong codes. Wait %(n)s minutes (until %(time)s) and try again.",
        minutes,
    ) % {"n": minutes, "time": at.strftime("%H:%M")}


def record_code_failure(request, *, throttled: bool) -> None:
    """Log a wrong sign-in code like a wrong password: a row of django-axes' failure log, its
    path the code page, "locked out" when it was refused while django-otp made the user wait.
    The administrator reads them with the password failures (only someone who knows the
    password gets this far). Side effect: one failure-log row."""
    AccessFailureLog.objects.create(
        username=request.user.get_username(),
        ip_address=client_ip(request) or None,
        user_agent=get_client_user_agent(request),
        http_accept=get_client_http_accept(request),
        path_info=get_client_path_info(request),
        locked_out=throttled,
    )


class TwoFactorMiddleware:
    """A user with a confirmed authenticator, or whose role requires one, must give a code
    after the password before anything else: verify, or enrol when the role requires it."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.open_paths = None

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not user.is_verified():
            if self.open_paths is None:
                self.open_paths = {reverse(name) for name in TWO_FACTOR_OPEN}
            path = request.path
            if path not in self.open_paths and not path.startswith("/" + settings.STATIC_URL.lstrip("/")):
                if policy(request)["device"]:
                    return redirect(f"{reverse('two_factor_verify')}?next={path}")
                if policy(request)["two_factor"]:
                    return redirect("two_factor_setup")
        return self.get_response(request)
