"""Test-peer behaviour switched on by environment variables (never in the demo)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class SlowTokenEndpoint:
    """``SANDBOX_TOKEN_DELAY_MS``: answer token requests that late, like a busy real provider,
    so that concurrent refreshes overlap for sure in tests."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.delay = int(os.environ.get("SANDBOX_TOKEN_DELAY_MS", "0")) / 1000

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.delay and request.method == "POST" and request.path.endswith("/o/token/"):
            time.sleep(self.delay)
        return self.get_response(request)
