"""``GET /v1/health`` for load balancers and orchestrators: 200 when this worker reaches its
database and cache, else 503. Unauthenticated; says nothing beyond ok/error per dependency."""

from __future__ import annotations

import logging

from django.core.cache import caches
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from aurinko_auth.conf import aurinko_settings

logger = logging.getLogger("aurinko_auth.health")


@never_cache
@require_safe
def health_view(request: HttpRequest) -> JsonResponse:
    checks = {"database": "ok", "cache": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.error("health: database unreachable (%s)", type(exc).__name__)
        checks["database"] = "error"
    try:
        cache = caches[aurinko_settings.RATE_LIMIT_CACHE]
        cache.set("aurinko:health", "1", 10)
        if cache.get("aurinko:health") != "1":
            checks["cache"] = "error"
    except Exception as exc:  # noqa: BLE001  (any backend error means "not healthy")
        logger.error("health: cache unreachable (%s)", type(exc).__name__)
        checks["cache"] = "error"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks}, status=200 if healthy else 503
    )
