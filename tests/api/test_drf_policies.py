"""Our API views pin every DRF policy, so a host project's ``REST_FRAMEWORK`` defaults
(read by DRF's APIView at import) never reach them (issue 18 item 2; tests/install runs a host
with such settings end to end)."""

from __future__ import annotations

import pytest
from django.urls import get_resolver
from rest_framework.views import APIView

from aurinko_auth.api.views import AurinkoAPIView

POLICIES = (
    "renderer_classes",
    "parser_classes",
    "authentication_classes",
    "throttle_classes",
    "permission_classes",
    "content_negotiation_class",
    "versioning_class",
    "metadata_class",
)


def our_api_views() -> list[type]:
    found = []
    for pattern in get_resolver("aurinko_auth.urls").url_patterns:
        view = pattern.callback
        cls = getattr(view, "view_class", None) or getattr(view, "cls", None)
        if cls is None:
            wrapped = getattr(view, "__wrapped__", None)
            cls = getattr(wrapped, "view_class", None)
        if cls is not None and issubclass(cls, APIView):
            found.append(cls)
    return found


def test_every_api_view_is_found():
    names = {cls.__name__ for cls in our_api_views()}
    assert {"TokenExchangeView", "AmAccountsView", "UserView", "SchemaView"} <= names


@pytest.mark.parametrize("view", our_api_views(), ids=lambda c: c.__name__)
def test_policies_are_the_views_own(view):
    """Each policy is set by one of our classes (or drf-spectacular's), never inherited from
    APIView, whose values are the host's DEFAULT_* settings."""
    for policy in POLICIES:
        owner = next(c for c in view.__mro__ if policy in vars(c))
        assert owner is not APIView, f"{view.__name__}.{policy} is the host's default"
    assert view.get_exception_handler is not APIView.get_exception_handler, (
        f"{view.__name__} uses the host's EXCEPTION_HANDLER"
    )


def test_our_base_pins_no_throttles():
    assert AurinkoAPIView.throttle_classes == []
    assert AurinkoAPIView.versioning_class is None
