"""Phones on weak mobile data: pages are compressed, the service worker is revalidated
with a 304 instead of downloaded again, and photos are not compressed twice."""

import gzip

import pytest
from django.urls import reverse

from tests.lokus import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(cast):
    return builders.make_dispatched_lokus(
        cast["kasubbid"], cast["partner"], [cast["member"], cast["coordinator"]], cast["coordinator"]
    )


def test_a_field_page_is_sent_compressed(client_for, cast, running):
    client = client_for("member")
    url = reverse("lokus:assignment", args=[running.pk])
    plain = client.get(url)
    packed = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert packed.status_code == 200
    assert packed["Content-Encoding"] == "gzip"
    html = gzip.decompress(packed.content).decode()
    assert running.plan.title in html
    assert len(packed.content) * 2 < len(plain.content)


def test_the_service_worker_is_revalidated_not_downloaded_again(client_for, cast):
    client = client_for("member")
    first = client.get(reverse("lokus:service_worker"))
    assert first.status_code == 200
    assert first["Cache-Control"] == "no-cache", "signed-in no-store must not make every visit a full download"
    again = client.get(reverse("lokus:service_worker"), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""


def test_a_page_of_a_signed_in_user_is_still_never_stored(client_for, cast, running):
    response = client_for("member").get(reverse("lokus:assignment", args=[running.pk]))
    assert "no-store" in response["Cache-Control"]
