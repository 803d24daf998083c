"""Sign-in and session protections: brute-force cool-offs, request size, caching, session
timeouts and two-factor enforcement. Policies per role live in ``RolePolicy`` (admin)."""

import datetime

from axes.handlers.database import AxesDatabaseHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.db.models import Max
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

# Cool-off tiers: failures of one username from one address in the last 24 hours.
COOLOFF_TIERS = [(20, datetime.timedelta(hours=24)), (10, datetime.timedelta(hours=2))]
FIRST_COOLOFF = datetime.timedelta(minutes=15)
FAILURE_WINDOW = datetime.timedelta(hours=24)


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the address the trusted reverse proxy saw
    (the last TRUSTED_PROXY_COUNT hops of X-Forwarded-For are ours)."""
    hops = settings.TRUSTED_PROXY_COUNT
    if hops and (forwarded := request.META.get("HTTP_X_FORWARDED_FOR")):
        chain = [part.strip() for part in forwarded.split(",") if part.strip()]
        if len(chain) >= hops:
            return chain[-hops]
    return request.META.get("REMOTE_ADDR", "")


def axes_cooloff(request) -> datetime.timedelta:
    """Escalating cool-off: 15 minutes, then 2 hours from 10 failures, 24 hours from 20,
    counted per username and address together (colleagues behind one carrier IP are not
    locked out by someone else's mistakes)."""
    if request is None:
        return FIRST_COOLOFF
    from axes.models import AccessFailureLog

    username = (request.POST.get(settings.AXES_USERNAME_FORM_FIELD) or "").strip() if request.method == "POST" else ""
    if not username:
        return FIRST_COOLOFF
    logged = AccessFailureLog.objects.filter(username=username, ip_address=client_ip(request))
    latest = logged.aggregate(latest=Max("attempt_time"))["latest"]
    # Counted back from the latest failure rather than from now: a 24-hour lockout lasts 24
    # hours although its first failures leave the 24-hour window before it ends.
    failures = logged.filter(attempt_time__gte=latest - FAILURE_WINDOW).count() if latest else 0
    for threshold, cooloff in COOLOFF_TIERS:
        if failures >= threshold:
            return cooloff
    return FIRST_COOLOFF


class AxesHandler(AxesDatabaseHandler):
    """django-axes' database handler with cool-offs that differ per account: axes deletes
    every attempt older than the cool-off of the request at hand, so anyone's sign-in,
    sign-out or typo would lift another account's 2- or 24-hour lockout after 15 minutes.
    Here a request expires only its own username and address at its own cool-off, and
    everyone else's attempts only after the longest cool-off."""

    def clean_expired_user_attempts(self, request=None, credentials=None) -> int:
        from axes.attempts import get_cool_off_threshold
        from axes.models import AccessAttempt

        longest = max(cooloff for _threshold, cooloff in COOLOFF_TIERS)
        count = AccessAttempt.objects.filter(attempt_time__lte=timezone.now() - longest).delete()[0]
        if request is not None and getattr(request, "axes_attempt_time", None) is not None:
            threshold = get_cool_off_threshold(request)
            for attempts in self.filter_user_attempts(request, credentials):
                count += attempts.filter(attempt_time__lte=threshold).delete()[0]
        return count


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
    may keep a copy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
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
