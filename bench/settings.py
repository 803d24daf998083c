"""Settings of the HTTP benchmark (bench/http.py): the product's own, as a server runs them
(DEBUG off), with the bench's URL conf (the product's URLs plus the bare 50-row view the
pages are compared with) and its one template."""

from config.settings import *  # noqa: F403
from config.settings import BASE_DIR, TEMPLATES

DEBUG = False
ROOT_URLCONF = "bench.urls"
# The bench's in-process measurements use Django's test client, whose host is "testserver".
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
TEMPLATES = [{**TEMPLATES[0], "DIRS": [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]}]
