"""The installable field app: the service worker, its offline page, and the session check
the phone's outbox makes before it sends anything (static/js/sw.js, static/js/outbox.js)."""

import hashlib
import json
import re
from functools import lru_cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import etag, require_GET

# What the service worker keeps for offline use from its first start (the app shell).
SHELL = [
    "css/lokus.css",
    "js/lokus.js",
    "js/outbox.js",
    "vendor/htmx/htmx.min.js",
    "vendor/idb/idb.umd.js",
    "icons/icon-192.png",
    "icons/icon-512.png",
    "manifest.webmanifest",
]
# The field pages the worker keeps a copy of, per user: the officer's list, the assignment
# page and its form pages. Nothing else is ever stored (no admin, reports, PDFs, files).
FIELD_PAGES = [
    "lokus:assignments",
    "lokus:assignment",
    "lokus:risk",
    "lokus:member_report",
    "lokus:escalate",
    "lokus:berita_acara_add",
]


def _page_pattern(name: str) -> str:
    """The URL of a field page as a regular expression (a JavaScript one, too)."""
    if name == "lokus:assignments":
        return "^" + re.escape(reverse(name)) + "$"
    return "^" + re.escape(reverse(name, args=[0])).replace("/0/", "/\\d+/") + "$"


def _read(name: str) -> bytes:
    path = finders.find(name)
    if path is None:
        raise FileNotFoundError(name)
    with open(path, "rb") as handle:
        return handle.read()


def _build() -> tuple[str, str]:
    """The worker's source, with its configuration in front, and a version that changes
    whenever the worker or any file of the shell changes (so phones fetch the new shell)."""
    source = _read("js/sw.js").decode()
    digest = hashlib.sha256(source.encode())
    for name in SHELL:
        digest.update(_read(name))
    version = digest.hexdigest()[:12]
    config = {
        "version": version,
        "shell": [static(name) for name in SHELL],
        "offline": reverse("lokus:offline"),
        "session": reverse("lokus:pwa_session"),
        "login": reverse("login"),
        "pages": [_page_pattern(name) for name in FIELD_PAGES],
        "scripts": [static("vendor/idb/idb.umd.js"), static("js/outbox.js")],
    }
    return f"self.LOKUS = {json.dumps(config)};\n{source}", version


_built = lru_cache(maxsize=1)(_build)


def _worker() -> tuple[str, str]:
    # Rebuilt on every request while developing, so that an edited file takes effect.
    return _build() if settings.DEBUG else _built()


@require_GET
@etag(lambda request: _worker()[1])
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from the site root so that its scope covers /tugas/ (a worker controls only
    the paths under its own URL). Browsers check it for a new version on every visit: the
    ETag lets them do so without downloading it again."""
    response = HttpResponse(_worker()[0], content_type="application/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response.holds_no_user_data = True  # the same script for everyone: keep it revalidatable
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """What the worker shows for a field page that was never opened online. It holds
    nothing about the user: the worker stores it for everyone who signs in on the phone."""
    return render(request, "lokus/offline.html")


@require_GET
@never_cache
def session_state(request: HttpRequest) -> JsonResponse:
    """Who is signed in, and a CSRF token for their session. The outbox sends an item only
    when the session belongs to the user who made it (another officer may have signed in
    on the same phone since), and with a token valid for that session."""
    user = request.user
    return JsonResponse({"user": user.pk if user.is_authenticated else None, "csrf": get_token(request)})
