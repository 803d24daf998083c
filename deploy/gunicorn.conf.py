"""gunicorn's settings for Lokus, read by lokus-web.service, the Containerfile and the
multi-instance test (tests/ops/test_multi_instance.py), so CI runs the same configuration
that production does. Overridable from the environment."""

import os

# Behind nginx on the same machine; in a container, 0.0.0.0:8000 (set in the Containerfile).
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: each request holds one. Two or three per core; uploads reach gunicorn only
# once nginx has buffered them, so a slow phone does not hold a worker.
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# A PDF with many photos takes a few seconds; nothing legitimate takes a minute.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then (memory held by WeasyPrint and Pillow).
max_requests = 1000
max_requests_jitter = 100
# X-Forwarded-* only from the proxy in front (Django decides the client address itself:
# TRUSTED_PROXIES, core/net.py).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# Every request is logged by the application itself, as one (JSON) line with its request id
# (core/observability.py); gunicorn writes only its own errors.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
wsgi_app = "config.wsgi:application"
