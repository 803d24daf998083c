"""Two-factor sign-in with django-otp: an authenticator app (TOTP) and backup codes."""

import secrets

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp import match_token, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.forms import TokenForm
from accounts.security import SESSION_POLICY

BACKUP_CODES = 10


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or reverse("home")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
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
        device = match_token(user, form.cleaned_data["token"])
        if device is not None:
            otp_login(request, device)
            return redirect(_next(request))
        form.add_error("token", _("The code is not valid. Try the current code, or a backup code."))
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": _next(request)})


@login_required
@require_http_methods(["GET", "POST"])
def setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app: scan the QR code, confirm with a code, keep the backup
    codes. Shown once; a lost device is reset by the administrator."""
    from core.pdf import qr_data_uri

    user = request.user
    if user_has_device(user, confirmed=True):
        messages.info(request, _("Two-factor sign-in is already set up for your account."))
        return redirect("home")
    device, _created = TOTPDevice.objects.get_or_create(user=user, confirmed=False, defaults={"name": "authenticator"})
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            with transaction.atomic():
                device.confirmed = True
                device.save()
                static, _c = StaticDevice.objects.get_or_create(user=user, name="backup")
                static.token_set.all().delete()
                codes = [secrets.token_hex(4) for _ in range(BACKUP_CODES)]
                StaticToken.objects.bulk_create(StaticToken(device=static, token=code) for code in codes)
            otp_login(request, device)
            request.session.pop(SESSION_POLICY, None)
            return render(request, "accounts/two_factor_done.html", {"codes": codes})
        form.add_error("token", _("The code is not valid. Check the time on your phone and try again."))
    return render(
        request,
        "accounts/two_factor_setup.html",
        {"form": form, "qr": qr_data_uri(device.config_url), "secret": _spaced(device)},
    )


def _spaced(device) -> str:
    from base64 import b32encode

    key = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))
