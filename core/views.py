from functools import wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest
from django.shortcuts import redirect

from core.errors import ActionRefused

PER_PAGE = 25


def paginate(request: HttpRequest, queryset, per_page: int = PER_PAGE):
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


def refusals_to_messages(fallback_url_name: str):
    """A POST action whose business rule refuses (or that lost a race) shows the reason on
    the page it came from, never a server error."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, pk, *args, **kwargs):
            try:
                return view(request, pk, *args, **kwargs)
            except ActionRefused as refusal:
                messages.error(request, refusal.message)
                return redirect(fallback_url_name, pk)

        return wrapper

    return decorator


def private_file(fieldfile, *, content_type: str, name: str, inline: bool) -> FileResponse:
    """Stream a stored upload after the caller checked access. Never cached, never sniffed,
    and sandboxed so that a PDF or image cannot run script in the product's origin."""
    response = FileResponse(fieldfile.open("rb"), content_type=content_type, as_attachment=not inline, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'"
    return response
