"""The project's session, authentication and messages middleware, skipped for the JSON API.

The API (``/v1/...`` except the browser flows under ``/v1/auth/``) authenticates with account
tokens, client credentials or its own ``AUR{appId}`` session cookie: it never reads Django's
session, ``request.user`` of django.contrib.auth or messages, and these three cost a
noticeable share of a request that is otherwise one query (bench/RESULTS.md). Everything else
(the admin, the hosted sign-in pages, the sandbox) gets them as before. Subclasses, so
Django's system checks still find them in MIDDLEWARE.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpRequest


def is_api(path: str) -> bool:
    return path.startswith("/v1/") and not path.startswith("/v1/auth/")


class BrowserSessionMiddleware(SessionMiddleware):
    def __call__(self, request: HttpRequest) -> Any:
        if is_api(request.path_info):
            return self.get_response(request)
        return super().__call__(request)


class BrowserAuthenticationMiddleware(AuthenticationMiddleware):
    def __call__(self, request: HttpRequest) -> Any:
        if is_api(request.path_info):
            return self.get_response(request)
        return super().__call__(request)


class BrowserMessageMiddleware(MessageMiddleware):
    def __call__(self, request: HttpRequest) -> Any:
        if is_api(request.path_info):
            return self.get_response(request)
        return super().__call__(request)
