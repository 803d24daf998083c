"""deploy/ agrees with the code: the commands the systemd units, the compose file and the
Containerfile run exist, nginx accepts exactly the request size Django does and has no
route to the uploaded files, and gunicorn's settings load. (The multi-instance test runs
gunicorn with deploy/gunicorn.conf.py itself.)"""

import configparser
import re
import runpy
import shlex
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import get_commands

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNITS = ["lokus-web.service", "lokus-worker.service", "lokus-periodic.service", "lokus-backup.service"]
TIMERS = ["lokus-periodic.timer", "lokus-backup.timer"]


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(DEPLOY / name)
    return parser


def management_commands(text: str) -> set[str]:
    return set(re.findall(r"manage\.py\"?,? \"?([a-z_]+)", text))


@pytest.mark.parametrize("name", UNITS)
def test_every_unit_runs_something_that_exists(name):
    service = unit(name)["Service"]
    program = shlex.split(service["ExecStart"])
    assert service["User"] == "lokus" and service["EnvironmentFile"] == "/etc/lokus/lokus.env"
    if program[0].endswith("python"):
        assert program[1] == "manage.py" and program[2] in get_commands(), program
    elif program[0].endswith("gunicorn"):
        assert program[1:] == ["-c", "/srv/lokus/deploy/gunicorn.conf.py"]
    else:
        script = DEPLOY / Path(program[0]).name
        assert script.is_file(), program
        assert management_commands(script.read_text()) <= set(get_commands())
        assert "manage.py backup" in script.read_text()


@pytest.mark.parametrize("name", TIMERS)
def test_each_timer_starts_its_service(name):
    timer = unit(name)
    assert "Timer" in timer and timer["Install"]["WantedBy"] == "timers.target"
    assert (DEPLOY / name.replace(".timer", ".service")).is_file()


def test_compose_and_containerfile_run_existing_commands():
    text = (DEPLOY / "compose.yaml").read_text()
    commands = management_commands(text)
    assert {"migrate", "db_worker", "run_periodic", "backup"} <= commands <= set(get_commands())
    for service in ("postgres:", "web:", "worker:", "periodic:"):
        assert f"\n  {service}" in text
    assert "deploy/gunicorn.conf.py" in (DEPLOY / "Containerfile").read_text()


def test_nginx_takes_what_django_takes_and_has_no_media_route():
    text = (DEPLOY / "nginx-lokus.conf").read_text()
    [size] = re.findall(r"^\s*client_max_body_size (\d+)m;", text, re.MULTILINE)
    assert int(size) * 1024 * 1024 == settings.MAX_REQUEST_BYTES
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in text
    assert "listen 443 ssl" in text and "ssl_certificate " in text
    locations = re.findall(r"^\s*location ([^{]+)\{", text, re.MULTILINE)
    assert [loc.strip() for loc in locations] == ["/.well-known/acme-challenge/", "/", "/"]
    assert not re.search(r"^\s*(alias|root) .*(media|lokus)", text, re.MULTILINE), "uploads only through the app"


def test_gunicorn_settings_load():
    config = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert config["wsgi_app"] == "config.wsgi:application"
    assert config["bind"].startswith("127.0.0.1:") and config["accesslog"] is None
