"""Comparing a lean view (aurinko_auth/api/lean.py) with the DRF view it stands in for:
the same request to both, and the two responses alike to the byte."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


def call_both(
    lean: Callable[..., HttpResponse],
    drf: Callable[..., HttpResponse],
    make_request: Callable[[], HttpRequest],
) -> list[HttpResponse]:
    """``[lean response, DRF response]`` to a fresh request from ``make_request`` each."""
    responses = []
    for view in (lean, drf):
        response = view(make_request())
        if hasattr(response, "render"):
            response.render()
        responses.append(response)
    return responses


def assert_same(lean: HttpResponse, drf: HttpResponse) -> None:
    assert lean.status_code == drf.status_code
    assert lean.content == drf.content
    assert dict(lean.headers) == dict(drf.headers)
