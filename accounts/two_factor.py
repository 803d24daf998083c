"""Two-factor sign-in with django-otp: an authenticator app (TOTP) and backup codes."""

import datetime
import secrets

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from accounts.forms import TokenForm
from accounts.security import SESSION_POLICY, code_throttled_until, code_wait_message, policy, record_code_failure

BACKUP_CODES = 10
# After a wrong code, a wait this long or longer is announced with the refusal; shorter ones
# (1, 2, 4 … seconds after the first few) pass before anyone types the next code.
CODE_WAIT_WORTH_SAYING = datetime.timedelta(minutes=1)


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or reverse("home")
    # A path on this site only: redirect() would look any other text up as a URL name (500).
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("home")


@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """After the password: the code from the authenticator app or a backup code."""
    user = request.user
    if user.is_verified():
        return redirect(_next(request))
    if not user_has_device(user, confirmed=True):
        return redirect("two_factor_setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # While django-otp throttles the devices it refuses every code, the right one too:
        # the user is told how long to wait rather than that the code is wrong.
        throttled = code_throttled_until(user)
        device = None if throttled else match_token(user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next(request))
        record_code_failure(request, throttled=throttled is not None)
        if throttled is None:
            form.add_error("token", _("The code is not valid. Try the current code, or a backup code."))
            throttled = code_throttled_until(user)
            if throttled is not None and throttled - timezone.now() < CODE_WAIT_WORTH_SAYING:
                throttled = None
        if throttled is not None:
            form.add_error(None, code_wait_message(throttled))
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": _next(request)})


@login_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the QR code, confirm with a code, keep the backup
    codes. Shown once; a lost device is reset by the administrator. Opening the page
    stores no device: the key waits in the session until a code confirms it."""
    from core.pdf import qr_data_uri

    user = request.user
    if user_has_device(user, confirmed=True):
        messages.info(request, _("Two-factor sign-in is already set up for your account."))
        return redirect("home")
    # Enrolment the role requires: the pages show a header with sign-out only, as every menu
    # link would lead back here (TwoFactorMiddleware).
    required = policy(request)["two_factor"]
    device = _pending_device(request)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if _first_code_matches(device, form.cleaned_data["token"]):
            codes = _enrol(user, device)
            if codes is None:  # another session of the user confirmed a device meanwhile
                messages.info(request, _("Two-factor sign-in is already set up for your account."))
                return redirect("home")
            request.session.pop(PENDING_KEY, None)
            otp_login(request, device)
            request.session.pop(SESSION_POLICY, None)
            heading = _codes_heading(user)
            return render(
                request,
                "accounts/two_factor_done.html",
                {
                    "codes": codes,
                    "codes_heading": heading,
                    "codes_file": _codes_file(heading, codes),
                    "enrolment_required": required,
                },
            )
        form.add_error("token", _("The code is not valid. Check the time on your phone and try again."))
    return render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr": qr_data_uri(device.config_url),
            "secret": _spaced(device),
            "enrolment_required": required,
        },
    )


# The key being enrolled, hex, until a code confirms it (then it is the device's key).
PENDING_KEY = "two_factor_pending_key"


def _pending_device(request: HttpRequest) -> TOTPDevice:
    """The device being enrolled, not saved. Its key is made on the first visit and kept in
    the session, so every visit of the session shows the key the app already scanned."""
    key = request.session.get(PENDING_KEY)
    if not key:
        key = request.session[PENDING_KEY] = default_key()
    return TOTPDevice(user=request.user, name="authenticator", key=key, confirmed=False)


def _first_code_matches(device: TOTPDevice, token: str) -> bool:
    """Check the code against the pending key. Not ``device.verify_token``: it saves the
    device, and a wrong code would store the unconfirmed one. No throttle either: whoever
    sees this page sees the key, so guessing its code gains nothing."""
    try:
        value = int(token)
    except ValueError:
        return False
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if not totp.verify(value, device.tolerance):
        return False
    device.last_t = totp.t()  # the code used here cannot also sign in
    device.drift = totp.drift
    return True


@transaction.atomic
def _enrol(user, device: TOTPDevice) -> list[str] | None:
    """Store the confirmed device and fresh backup codes; returns the codes, or None if the
    user already has a confirmed device (two sessions confirming at once enrol once)."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    if user_has_device(user, confirmed=True):
        return None
    # An unconfirmed device stored by an earlier release of this page.
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    device.confirmed = True
    device.full_clean()
    device.save()
    static, _c = StaticDevice.objects.get_or_create(user=user, name="backup")
    static.token_set.all().delete()
    codes = [secrets.token_hex(4) for _ in range(BACKUP_CODES)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=code) for code in codes)
    return codes


def _codes_heading(user) -> str:
    """The line above the backup codes on paper and in the downloaded file."""
    made = formats.date_format(timezone.localtime(), "j F Y H:i")
    return _("Lokus backup codes for %(username)s, made %(time)s WIB") % {"username": user.get_username(), "time": made}


def _codes_file(heading: str, codes: list[str]) -> str:
    """The backup codes as the text file the done page offers for download. It is built into
    the page itself (a data: link): the server keeps no copy to hand out later."""
    note = _("Each code signs in once, when the authenticator app is not at hand.")
    return "\n".join([heading, note, "", *codes, ""])


def _spaced(device: TOTPDevice) -> str:
    from base64 import b32encode

    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))
