"""A host project that mounts the broker under a prefix (tests/flows/test_mount.py)."""

from django.urls import include, path

urlpatterns = [path("broker/", include("aurinko_auth.urls"))]
