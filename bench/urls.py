"""The product's URLs, plus the bare view every page is compared with (bench/http.py)."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import include, path
from django.views.decorators.http import require_GET

from lokus.models import ActivityPlan


@require_GET
def bare(request: HttpRequest) -> HttpResponse:
    """The floor of a Django page on this database: the 50 newest plans (by primary key, an
    index walk) through a tiny template, behind the same middleware as every page."""
    plans = ActivityPlan.objects.order_by("-pk").only("pk", "title", "starts_at", "status")[:50]
    return render(request, "bench/bare.html", {"plans": plans})


@login_required
@require_GET
def layout(request: HttpRequest) -> HttpResponse:
    """The same 50 rows inside the product's layout, signed in: the header, the menu, the
    unread badge and the context processors every page pays before its own work. Its ratio
    to the bare view is the ceiling of any product page (bench/http.py prints it)."""
    plans = ActivityPlan.objects.order_by("-pk").only("pk", "title", "starts_at", "status")[:50]
    return render(request, "bench/layout.html", {"plans": plans})


urlpatterns = [
    path("bench/bare/", bare, name="bench_bare"),
    path("bench/layout/", layout, name="bench_layout"),
    path("", include("config.urls")),
]
