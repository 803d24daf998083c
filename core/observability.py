"""Logs that operations can read: a request id on every line and every response, one line per
request, slow requests at WARNING, JSON lines when ``LOG_FORMAT=json``.

What a request line holds is fixed here: request id, user id, method, path (never the query
string), status, duration. Never a form field, a password, a report's text or a file name:
request bodies are not read, and Django's own ``request`` object, which some of its log
records carry and whose text shows the query string, is left out of the JSON."""

import contextvars
import logging
import re
import time
import uuid

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.functional import empty
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as BaseJsonFormatter

from core.net import peer_is_trusted_proxy

REQUEST_ID_HEADER = "X-Request-ID"
# What a proxy's request id may look like (a UUID, a hex or base64 token, nginx's $request_id);
# anything else, which could forge log lines, is replaced by our own.
REQUEST_ID = re.compile(r"[A-Za-z0-9._:+/=-]{8,128}")

logger = logging.getLogger("lokus.request")
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being answered in this thread or task, if any."""
    return _request_id.get()


class RequestIdFilter(logging.Filter):
    """Puts the current request id (or "-") on every record, whichever logger wrote it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get() or "-"
        return True


class JsonFormatter(BaseJsonFormatter):
    """One JSON object per line. Django's ``request`` object is never serialised."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("reserved_attrs", [*RESERVED_ATTRS, "request"])
        kwargs.setdefault("rename_fields", {"levelname": "level", "name": "logger"})
        kwargs.setdefault("timestamp", "time")  # ISO 8601 in UTC
        kwargs.setdefault("json_ensure_ascii", False)
        super().__init__(*args, **kwargs)

    def add_fields(self, log_data, record, message_dict) -> None:
        super().add_fields(log_data, record, message_dict)
        for key in [key for key, value in log_data.items() if isinstance(value, HttpRequest)]:
            del log_data[key]


def _user_id(request: HttpRequest) -> int | None:
    """The signed-in user's id, if the request already looked the user up (no extra query)."""
    user = getattr(request, "user", None)
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if user.is_authenticated else None


class RequestLogMiddleware:
    """First in MIDDLEWARE: gives the request its id (a trusted proxy's X-Request-ID, or a new
    one), returns it in the X-Request-ID response header and writes one log line per
    request; at WARNING when it took longer than ``SLOW_REQUEST_MS``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        if incoming and REQUEST_ID.fullmatch(incoming) and peer_is_trusted_proxy(request):
            request_id = incoming
        else:
            request_id = uuid.uuid4().hex
        request.request_id = request_id
        token = _request_id.set(request_id)
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            duration_ms = round((time.perf_counter() - started) * 1000, 1)
            slow = duration_ms > settings.SLOW_REQUEST_MS
            logger.log(
                logging.WARNING if slow else logging.INFO,
                "%s %s %s %.1f ms%s",
                request.method,
                request.path,
                response.status_code,
                duration_ms,
                " (slow)" if slow else "",
                extra={
                    "request_id": request_id,
                    "user_id": _user_id(request),
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": duration_ms,
                    "slow": slow,
                },
            )
            return response
        finally:
            _request_id.reset(token)
