from functools import cached_property, wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest
from django.shortcuts import redirect

from core.errors import ActionRefused
from core.params import to_int

PER_PAGE = 25


class CappedPaginator(Paginator):
    """A paginator that counts at most the rows up to ``AHEAD`` pages past the page asked
    for: a list of 100,000 rows costs what a list of a few hundred does (an exact COUNT
    reads every matching row). Past that, ``more`` is true and ``num_pages`` counts the
    pages known so far, a lower bound that grows as the reader pages on."""

    AHEAD = 10
    DEEPEST = 10**6  # a page number past this is read as the last page known

    def __init__(self, object_list, per_page, number=None):
        super().__init__(object_list, per_page)
        self.cap = (min(to_int(number, 1, min=1) or 1, self.DEEPEST) + self.AHEAD) * self.per_page

    @cached_property
    def counted(self) -> int:
        """The rows, counted to one past the cap (without the ordering, which a count needs not)."""
        rows = self.object_list
        if hasattr(rows, "order_by"):
            # Only the ids: the list's annotations (a team's size, a title) are not computed.
            return rows.order_by().values("pk")[: self.cap + 1].count()
        return len(rows)

    @cached_property
    def count(self) -> int:
        return min(self.counted, self.cap)

    @cached_property
    def more(self) -> bool:
        return self.counted > self.cap


def paginate(request: HttpRequest, queryset, per_page: int = PER_PAGE):
    number = request.GET.get("page")
    return CappedPaginator(queryset, per_page, number).get_page(number)


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
    and sandboxed so that a PDF or image cannot run script in the product's origin. Read
    through the field's storage (local disk or a bucket), never from a path: a bucket's
    signed URL could be passed on, and would skip these headers and the access log."""
    response = FileResponse(fieldfile.open("rb"), content_type=content_type, as_attachment=not inline, filename=name)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; media-src 'self'"
    return response
