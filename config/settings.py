"""Django settings for Lokus, read from the environment (12-factor).

Two modes, chosen by ``DJANGO_MODE``:

* ``development`` (default): DEBUG on, a fixed development secret, SQLite in the project
  folder, e-mail printed to the console. Good for the demo and the tests.
* ``production``: DEBUG off, a real ``SECRET_KEY`` required (the development secret is
  refused), ``SITE_URL`` required, HTTPS-only cookies, HSTS; ``manage.py check --deploy
  --fail-level WARNING`` is clean.
"""

from pathlib import Path
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

# Known to everyone who has read this file, so production refuses it.
DEVELOPMENT_SECRET_KEY = "django-insecure-lokus-development-only-never-use-in-production"  # noqa: S105

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

MODE = env.str("DJANGO_MODE", default="development")
if MODE not in ("development", "production"):
    raise ImproperlyConfigured("DJANGO_MODE must be 'development' or 'production'.")
PRODUCTION = MODE == "production"

DEBUG = env.bool("DEBUG", default=not PRODUCTION)
SECRET_KEY = env.str("SECRET_KEY", default=DEVELOPMENT_SECRET_KEY)

if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DEBUG must be off in production mode.")
    if SECRET_KEY == DEVELOPMENT_SECRET_KEY or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5:
        raise ImproperlyConfigured(
            "Production mode needs a real SECRET_KEY (50+ random characters); the development secret is refused."
        )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "guardian",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    # Background jobs: Django's Tasks API (the django-tasks backport until Django 6) and its
    # database backend, whose db_worker processes share the queue through the database.
    "django_tasks",
    "django_tasks_db",
    "core",
    "accounts",
    "lokus",
    "reports",
    "monev",
    "home",
]

MIDDLEWARE = [
    # First: the request id and the one log line per request cover every answer, even the
    # ones the middleware below gives without reaching a view.
    "core.observability.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Inside whitenoise (static files come compressed already), outside everything that
    # writes the body.
    "core.middleware.TextGZipMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.LanguageCookieMiddleware",
    # Before anything reads the body; after the headers and the language, so that the 413
    # page is in the reader's language and carries the security headers.
    "accounts.security.RequestSizeLimitMiddleware",
    # Control characters in the path or query, NUL in a form: 400 before any view or query.
    "core.middleware.InputSanityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.security.SessionTimeoutMiddleware",
    "accounts.security.TwoFactorMiddleware",
    "accounts.security.NoStoreMiddleware",
    # Last, as django-axes requires: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.nav",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: django-axes refuses sign-in while a username/address pair is locked out.
    "axes.backends.AxesStandaloneBackend",
    # Django's, with the permissions read with the roles in one query.
    "accounts.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# The product has no anonymous access to objects; guardian's anonymous user is off.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "id"
LANGUAGES = [("id", _("Indonesian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
LANGUAGE_COOKIE_NAME = "lokus_language"
LANGUAGE_COOKIE_SECURE = PRODUCTION
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "Asia/Jakarta"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    # Uploaded files are private: there is no MEDIA_URL route; views serve them after an
    # access check.
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Outside production, whitenoise serves straight from the source folders (no collectstatic).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
if not PRODUCTION:
    Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)

MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
MEDIA_URL = "/media-not-served/"
# Where uploads live: "local" (MEDIA_ROOT, shared by every app server over NFS or the like) or
# "s3", an S3-compatible bucket through django-storages. Either way every read and write goes
# through Django's storage API, and files reach people only through the views that check
# access and stream them (core.views.private_file). The bucket is private; any URL it is
# asked for (the admin's "currently" link) is signed and expires in MEDIA_URL_EXPIRE_SECONDS.
MEDIA_STORAGE = env.str("MEDIA_STORAGE", default="local")
if MEDIA_STORAGE == "s3":
    if not env.str("AWS_STORAGE_BUCKET_NAME", default=""):
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME.")
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            # Unset: AWS itself; set for MinIO, Ceph, Garage, a cloud's S3 service.
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("AWS_S3_REGION_NAME", default=None),
            # Unset: boto3's own chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, an instance role).
            "access_key": env.str("AWS_S3_ACCESS_KEY_ID", default=None),
            "secret_key": env.str("AWS_S3_SECRET_ACCESS_KEY", default=None),
            "location": env.str("AWS_LOCATION", default=""),
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default=None),  # "path" for MinIO
            "signature_version": "s3v4",
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env.int("MEDIA_URL_EXPIRE_SECONDS", default=60),
            "custom_domain": None,  # a custom domain would give unsigned, public URLs
            "file_overwrite": False,
        },
    }
elif MEDIA_STORAGE != "local":
    raise ImproperlyConfigured("MEDIA_STORAGE must be 'local' or 's3'.")

# E-mail: console in development, SMTP (EMAIL_URL) in production.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://" if not PRODUCTION else "smtp://localhost:25")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="lokus@kesbangpol.tangerangkota.go.id")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# A mail server that does not answer must not hold a worker (and the mail's row lock) for long.
EMAIL_TIMEOUT = EMAIL_CONFIG.get("EMAIL_TIMEOUT") or env.int("EMAIL_TIMEOUT", default=20)

# Background jobs (README "Background jobs"). The database backend in every mode: the e-mail
# job is written in the same transaction as the notification it belongs to, and any number of
# `manage.py db_worker` processes, on any machine, take jobs from the one database.
# TASKS_BACKEND=django_tasks.backends.immediate.ImmediateBackend runs jobs inside the web
# process after the commit instead (the tests do that; no worker needed).
TASKS = {
    "default": {
        "BACKEND": env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
# Seconds to wait before each retry of an e-mail the server refused or did not take; after
# the last one the mail is marked failed and the administrator may send it again.
MAIL_RETRY_SECONDS = env.list("MAIL_RETRY_SECONDS", cast=int, default=[60, 5 * 60, 15 * 60, 60 * 60])
# Queued mail whose attempt is this many seconds overdue (its job was lost: a worker killed in
# the middle of it) gets a new job from the periodic sweep (manage.py run_periodic).
MAIL_SWEEP_AFTER_SECONDS = env.int("MAIL_SWEEP_AFTER_SECONDS", default=5 * 60)
# /readyz reports the worker as not seen when no job started or finished for this long; the
# scheduler enqueues a heartbeat job every minute.
READYZ_WORKER_MINUTES = env.int("READYZ_WORKER_MINUTES", default=5)

# Absolute address of the product (https://lokus.example.go.id), for links in e-mails and the
# verification links and QR codes printed on documents. Production refuses to start without
# it; in development, unset, documents take the address of the request they are made for.
SITE_URL = env.str("SITE_URL", default="").rstrip("/")
if PRODUCTION and (urlsplit(SITE_URL).scheme not in ("https", "http") or not urlsplit(SITE_URL).netloc):
    raise ImproperlyConfigured(
        "Production mode needs SITE_URL, the product's public address (https://...): documents print "
        "it as their verification link."
    )

# Security headers, on in every mode; the HTTPS ones only in production.
SECURE_CONTENT_TYPE_NOSNIFF = True
# Strict: no referrer ever leaves the site. ("no-referrer" would make browsers send
# "Origin: null" on same-site form posts, which Django's CSRF check rightly refuses.)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # A load balancer probes the health checks over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    # __Host- cookies: HTTPS only, this host only, whole site.
    SESSION_COOKIE_NAME = "__Host-lokus_session"
    CSRF_COOKIE_NAME = "__Host-lokus_csrf"
    LANGUAGE_COOKIE_NAME = "__Host-lokus_language"
    LANGUAGE_COOKIE_PATH = "/"

# Brute force (django-axes): lock a username together with the address it comes from, so
# that colleagues behind the same mobile-carrier address are not locked out; cool-offs
# escalate (accounts.security.axes_cooloff). Besides, 20 failures of one username from any
# addresses within an hour lock that account for an hour (accounts.security.AxesHandler).
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_COOLOFF_TIME = "accounts.security.axes_cooloff"
AXES_RESET_ON_SUCCESS = True
# A refused attempt during a lockout neither restarts nor escalates it: the cool-offs are
# the ones promised on the lockout page, counted from the failures that caused them.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Axes' own handler, except that one request's cool-off expires only that request's attempts,
# plus the per-account limit.
AXES_HANDLER = "accounts.security.AxesHandler"
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_USERNAME_FORM_FIELD = "username"
AXES_CLIENT_IP_CALLABLE = "core.net.client_ip"
AXES_VERBOSE = False
# Reverse proxies in front of gunicorn: addresses or networks ("127.0.0.1,10.0.0.0/8").
# X-Forwarded-For is read only when a request comes straight from one of them; anyone else
# could write any address there and escape the lockouts (core.net.client_ip).
TRUSTED_PROXIES = env.list("TRUSTED_PROXIES", default=["127.0.0.1", "::1"] if PRODUCTION else [])

# Two-factor sign-in (django-otp): which roles require it is set per role in the admin.
OTP_TOTP_ISSUER = "Lokus Kesbangpol"
OTP_TOTP_THROTTLE_FACTOR = 1

# Sessions: 12 hours in all, and an idle limit per role (RolePolicy; 30 minutes by default).
SESSION_ABSOLUTE_HOURS = 12
SESSION_IDLE_MINUTES = 30
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# The monitoring's stored step occurrences (monev/occurrences.py) are replaced after the
# commit of each change; True replaces them at once, inside the transaction (the tests).
MONEV_OCCURRENCES_IMMEDIATE = False

# The monitoring map (monev/views_map.py): the tile server, OpenStreetMap's by default; an
# intranet sets its own, an address or a path on this site (/tiles/{z}/{x}/{y}.png). Empty: no
# tiles, the markers on a plain background. The attribution is HTML (the map shows it as such).
MAP_TILE_URL = env.str("MAP_TILE_URL", default="https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = env.str(
    "MAP_TILE_ATTRIBUTION",
    default='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
)


def tile_origin(url: str) -> str | None:
    """The origin the map's tile images come from, for the CSP's img-src (None: this site,
    or no tiles at all); a {s} subdomain becomes the wildcard "*.". Refuses anything else."""
    if not url:
        return None
    refused = ImproperlyConfigured(
        "MAP_TILE_URL must be an http(s) address or a path on this site, with {z}, {x} and {y}."
    )
    if not all(part in url for part in ("{z}", "{x}", "{y}")):
        raise refused
    if url.startswith("/") and not url.startswith("//"):
        return None
    parts = urlsplit(url)
    host = parts.netloc.removeprefix("{s}.")
    if parts.scheme not in ("https", "http") or not host or set(host) & set("{}@*/ ;,'\"\\"):
        raise refused
    return f"{parts.scheme}://{'*.' if parts.netloc.startswith('{s}.') else ''}{host}"


MAP_TILE_ORIGIN = tile_origin(MAP_TILE_URL)

# Content-Security-Policy (django-csp): no inline script or style anywhere. Images from this
# site, data: URIs and the map's tile server only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", *([MAP_TILE_ORIGIN] if MAP_TILE_ORIGIN else [])],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "media-src": ["'self'"],
        "object-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
    }
}

# Upload limits enforced by Django itself (the reverse proxy should match them): a whole
# request above MAX_REQUEST_BYTES gets a 413 page before its body is read.
MAX_REQUEST_BYTES = 110 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640

# Logs (core/observability.py): every record through one console handler, with the id of the
# request it belongs to; LOG_FORMAT=json writes JSON lines for a log collector. One line per
# request (lokus.request); a request slower than SLOW_REQUEST_MS is logged at WARNING.
LOG_FORMAT = env.str("LOG_FORMAT", default="text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured("LOG_FORMAT must be 'text' or 'json'.")
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
SLOW_REQUEST_MS = env.int("SLOW_REQUEST_MS", default=2000)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.observability.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "core.observability.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's default configuration gives these handlers of their own; here they write
        # through the root's only, once and in the chosen format.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.server": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        # WeasyPrint reports every layout step at INFO; only its warnings matter here.
        "weasyprint": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Demo data: the password every demo user gets (development mode only).
DEMO_PASSWORD = env.str("DEMO_PASSWORD", default="Lokus-Demo-2025")
