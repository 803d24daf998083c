from django.urls import path

from core import health

# Without a trailing slash, as load balancers and orchestrators probe them; exempt from the
# HTTPS redirect (SECURE_REDIRECT_EXEMPT) and open to anonymous callers.
urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
]
