from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Beranda: who is signed in, their roles, and what they may open."""
    user = request.user
    return render(request, "accounts/home.html", {"roles": user.roles})
