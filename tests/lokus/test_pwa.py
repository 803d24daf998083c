"""The installable field app's server side: the service worker at the root, the pages it may
keep (field pages only), its offline page and the outbox's session check."""

import json
import re

import pytest
from django.test import override_settings
from django.urls import reverse

from lokus.views import pwa
from tests.lokus import builders

pytestmark = pytest.mark.django_db


def worker_config(response) -> dict:
    first_line = response.content.decode().split("\n", 1)[0]
    assert first_line.startswith("self.LOKUS = ") and first_line.endswith(";")
    return json.loads(first_line[len("self.LOKUS = ") : -1])


def test_the_worker_is_served_from_the_root_as_javascript_and_revalidated(client):
    response = client.get("/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert response["Cache-Control"] == "no-cache"
    assert 'addEventListener("fetch"' in response.content.decode()
    again = client.get("/sw.js", HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304 and again.content == b""


def test_the_worker_keeps_field_pages_only(client, cast):
    config = worker_config(client.get(reverse("lokus:service_worker")))
    patterns = [re.compile(source) for source in config["pages"]]

    def kept(path: str) -> bool:
        return any(pattern.search(path) for pattern in patterns)

    for name in ("lokus:assignment", "lokus:risk", "lokus:member_report", "lokus:escalate", "lokus:berita_acara_add"):
        assert kept(reverse(name, args=[7])), name
    assert kept(reverse("lokus:assignments"))
    for path in (
        reverse("home"),
        reverse("lokus:detail", args=[7]),
        reverse("lokus:media_file", args=[7]),
        reverse("lokus:note_add", args=[7]),  # a POST target, never a page
        reverse("lokus:media_add", args=[7]),
        reverse("reports:surat_tugas", args=[7]),
        reverse("admin:index"),
        reverse("lokus:assignment", args=[7]) + "x/",
        "/tugas/7/../../admin/",
    ):
        assert not kept(path), path
    assert config["offline"] == reverse("lokus:offline")
    assert config["session"] == reverse("lokus:pwa_session")
    assert "/static/js/outbox.js" in config["shell"] and "/static/vendor/idb/idb.umd.js" in config["scripts"]


def test_the_version_changes_with_the_shell(client, monkeypatch):
    before = worker_config(client.get("/sw.js"))["version"]
    original = pwa._read

    def edited(name: str) -> bytes:
        return original(name) + (b"/* edited */" if name == "js/outbox.js" else b"")

    monkeypatch.setattr(pwa, "_read", edited)
    with override_settings(DEBUG=True):  # rebuilt on every request, as while developing
        after = worker_config(client.get("/sw.js"))["version"]
    assert after != before


def test_the_offline_page_says_nothing_about_the_user(client, cast):
    client.force_login(cast["member"])
    page = client.get(reverse("lokus:offline")).content.decode()

    assert 'data-testid="offline-page"' in page
    assert cast["member"].username not in page and cast["member"].full_name not in page
    assert "lokus-user" not in page


def test_the_session_check_names_the_signed_in_user_and_gives_a_token(client, cast):
    anonymous = client.get(reverse("lokus:pwa_session"))
    assert anonymous.json()["user"] is None
    assert "no-store" in anonymous["Cache-Control"]

    client.force_login(cast["member"])
    response = client.get(reverse("lokus:pwa_session"))
    assert response.json()["user"] == cast["member"].pk
    assert len(response.json()["csrf"]) == 64
    assert "no-store" in response["Cache-Control"]


def test_field_pages_tell_the_worker_whose_they_are_and_carry_the_outbox(client, cast):
    member, coordinator = cast["member"], cast["coordinator"]
    lokus = builders.make_dispatched_lokus(cast["kasubbid"], cast["partner"], [member, coordinator], coordinator)
    builders.advance_to_running(lokus, [member, coordinator], coordinator)
    client.force_login(member)

    page = client.get(reverse("lokus:assignment", args=[lokus.pk])).content.decode()

    assert f'<meta name="lokus-user" content="{member.pk}">' in page
    assert 'rel="manifest"' in page and "js/outbox.js" in page
    for action in ("note_add", "media_add"):
        form = re.search(rf'<form[^>]*action="{reverse("lokus:" + action, args=[lokus.pk])}"[^>]*>', page).group(0)
        assert 'data-outbox="' in form and f'data-outbox-lokus="{lokus.pk}"' in form
    assert "data-outbox-logout" in page


def test_the_escalation_page_names_whom_to_call_without_a_signal(client, cast):
    member, coordinator = cast["member"], cast["coordinator"]
    lokus = builders.make_dispatched_lokus(cast["kasubbid"], cast["partner"], [member, coordinator], coordinator)
    cast["other_kasubbid"].phone = "081300003333"
    cast["other_kasubbid"].save(update_fields=["phone"])

    client.force_login(member)
    contacts = client.get(reverse("lokus:escalate", args=[lokus.pk])).context["contacts"]
    assert [(str(role), person) for role, person in contacts] == [
        ("Korlap", coordinator),
        ("Kasubbid", cast["kasubbid"]),
    ]

    # The Korlap is not told to call themselves; a Kasubbid without a number is not listed.
    cast["kasubbid"].phone = ""
    cast["kasubbid"].save(update_fields=["phone"])
    client.force_login(coordinator)
    assert client.get(reverse("lokus:escalate", args=[lokus.pk])).context["contacts"] == []
