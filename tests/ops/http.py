"""A small HTTP client that uses the product as a browser does, for tests against real
servers (tests/ops/test_multi_instance.py): cookies, CSRF tokens, forms read from the page
with the values the browser would send, multipart uploads, redirects seen, not followed.

Standard library only (urllib, http.cookiejar, html.parser)."""

import http.cookiejar
import io
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin, urlsplit

TIMEOUT = 60  # seconds; a guard against a hung server, never waited for when things work


@dataclass
class Response:
    status: int
    headers: dict
    body: bytes
    url: str

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def location(self) -> str:
        """The path a redirect points to."""
        return urlsplit(urljoin(self.url, self.headers.get("location", ""))).path


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    attrs: dict = field(default_factory=dict)

    def values(self, **overrides) -> list[tuple[str, str]]:
        """The fields a browser would send, with ``overrides`` replacing (a list: several
        values) or adding fields."""
        kept = [(name, value) for name, value in self.fields if name not in overrides]
        for name, value in overrides.items():
            for item in value if isinstance(value, list | tuple) else [value]:
                kept.append((name, str(item)))
        return kept


class _FormParser(HTMLParser):
    """Every <form> of a page with the values of its controls as the page gives them."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._textarea: tuple[str, list[str]] | None = None
        self._select: dict | None = None
        self._option: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = {key: value if value is not None else "" for key, value in attrs}
        if tag == "form":
            self._form = Form(attrs.get("action", ""), attrs.get("method", "get").lower(), attrs=attrs)
            self.forms.append(self._form)
        if self._form is None or "disabled" in attrs:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text").lower()
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self._form.fields.append((name, attrs.get("value", "on")))
            elif kind not in ("submit", "button", "file", "reset", "image"):
                self._form.fields.append((name, attrs.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea = (name, [])
        elif tag == "select" and name:
            self._select = {"name": name, "multiple": "multiple" in attrs, "options": []}
        elif tag == "option" and self._select is not None:
            self._option = {"value": attrs.get("value"), "selected": "selected" in attrs, "text": []}
            self._select["options"].append(self._option)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1].append(data)
        if self._option is not None:
            self._option["text"].append(data)

    def handle_endtag(self, tag):
        if tag == "textarea" and self._textarea is not None:
            name, parts = self._textarea
            text = "".join(parts)
            self._form.fields.append((name, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            options = self._select["options"]
            chosen = [o for o in options if o["selected"]] or ([] if self._select["multiple"] else options[:1])
            for option in chosen:
                value = option["value"] if option["value"] is not None else "".join(option["text"]).strip()
                self._form.fields.append((self._select["name"], value))
            self._select = None
        elif tag == "form":
            self._form = None


def forms(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


def form(html: str, action: str, page: str = "", testid: str | None = None) -> Form:
    """The form of the page that posts to ``action`` (a path; a form without an action posts
    to its ``page``), among those marked ``data-testid=testid`` if given; exactly one must."""
    found = [
        f
        for f in forms(html)
        if (urlsplit(f.action).path or page) == action and (testid is None or f.attrs.get("data-testid") == testid)
    ]
    assert len(found) == 1, f"{len(found)} forms post to {action}: {[f.action for f in forms(html)]}"
    return found[0]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _multipart(fields: list[tuple[str, str]], files: dict) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in fields:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode())
        out.write(str(value).encode() + b"\r\n")
    for name, (filename, content, content_type) in files.items():
        out.write(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
        )
        out.write(content + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), f"multipart/form-data; boundary={boundary}"


def _headers(answer) -> dict:
    return {key.lower(): value for key, value in answer.headers.items()}


class Browser:
    """One person's browser: its own cookies (session, CSRF), any number of servers.
    ``servers`` gives the base URL of each request (an iterator that alternates between
    instances, say); a request may also name its server."""

    def __init__(self, servers, name: str = ""):
        self.name = name
        self.servers = servers
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)
        self.history: list[tuple[str, str, str, int]] = []  # (server, method, path, status)

    def _base(self, server: str | None) -> str:
        return server or next(self.servers)

    def request(self, method: str, path: str, *, data=None, files=None, server=None, headers=None) -> Response:
        base = self._base(server)
        url = urljoin(base, path)
        body, content_type = None, None
        if method == "POST":
            fields = list(data or [])
            if not any(name == "csrfmiddlewaretoken" for name, _ in fields):
                fields.append(("csrfmiddlewaretoken", self.csrf_token()))
            if files:
                body, content_type = _multipart(fields, files)
            else:
                body, content_type = urlencode(fields).encode(), "application/x-www-form-urlencoded"
        # Only the test's own servers on 127.0.0.1 (http), never a file: or other scheme.
        request = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))  # noqa: S310
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with self.opener.open(request, timeout=TIMEOUT) as answer:
                response = Response(
                    answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read(), url
                )
        except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx, 5xx
            response = Response(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read(), url)
        self.history.append((base, method, urlsplit(url).path, response.status))
        return response

    def get(self, path: str, **kwargs) -> Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, data=None, **kwargs) -> Response:
        return self.request("POST", path, data=data, **kwargs)

    def csrf_token(self) -> str:
        for cookie in self.jar:
            if cookie.name.endswith("csrftoken") or cookie.name.endswith("lokus_csrf"):
                return cookie.value
        raise AssertionError(f"{self.name}: no CSRF cookie yet (GET a page with a form first)")

    def submit(self, page: str, action: str | None = None, files=None, testid=None, **overrides) -> Response:
        """Open ``page``, fill the form that posts to ``action`` (default: the page itself;
        ``testid``: the one marked so) as the person would, and send it; the GET and the
        POST may go to different servers."""
        html = self.get(page)
        assert html.status == 200, f"{self.name}: GET {page} answered {html.status}"
        chosen = form(html.text, action or urlsplit(page).path, urlsplit(page).path, testid)
        return self.post(chosen.action or page, chosen.values(**overrides), files=files)

    def sign_in(self, username: str, password: str) -> Response:
        return self.submit("/masuk/", username=username, password=password)
