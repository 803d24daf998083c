"""Refusing malformed input before any view sees it, and compressing what phones download."""

import re

from django.http import HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.middleware.gzip import GZipMiddleware
from django.shortcuts import render
from django.utils.translation import gettext as _

# C0 control characters (NUL included) and DEL. No path or query parameter of the product
# has a use for them, and PostgreSQL refuses NUL in a query with a server error.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def bad_request(request: HttpRequest, reason: str = "") -> HttpResponse:
    """The project's 400 page, optionally saying what was wrong."""
    return render(request, "400.html", {"reason": reason}, status=400)


class InputSanityMiddleware:
    """400 for a path or query parameter (name or value) containing a control character,
    and for a form field containing NUL (text areas may hold tabs and line breaks).

    The address is checked as the request comes in. The form is read just before the view
    (process_view, where CsrfViewMiddleware reads it too), so that every middleware has
    seen the request and a body Django refuses (too much form data) gets the 400 page with
    all the headers. Reading it here also turns a multipart body that Django cannot parse
    into a 400 page that says what to do: the usual cause is a file name longer than
    Django's limit of 1 KiB for the headers of one part, which no real file system makes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if CONTROL.search(request.path) or any(
            CONTROL.search(key) or any(CONTROL.search(value) for value in values) for key, values in request.GET.lists()
        ):
            return bad_request(request, _("The address contains characters that are not allowed."))
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        if request.method != "POST":
            return None
        try:
            post = request.POST
        except MultiPartParserError:
            return bad_request(
                request,
                _(
                    "The form could not be read. If you attached a file, its name may be too long: "
                    "rename the file to a shorter name and send it again."
                ),
            )
        if any("\x00" in key or any("\x00" in value for value in values) for key, values in post.lists()):
            return bad_request(request, _("The form contains characters that are not allowed."))
        return None


class TextGZipMiddleware(GZipMiddleware):
    """Compresses pages, JSON and scripts for phones on weak mobile data (a field page's HTML
    shrinks about four times); photos, videos and PDFs, already compressed, pass as they are.
    Django's GZipMiddleware pads every response with random bytes against BREACH, and CSRF
    tokens are masked per response. Static files are compressed ahead by whitenoise."""

    COMPRESSIBLE = ("text/", "application/json", "application/javascript", "application/manifest+json")

    def process_response(self, request, response):
        if not response.get("Content-Type", "").startswith(self.COMPRESSIBLE):
            return response
        return super().process_response(request, response)
