"""The demo's stand-in for a *client app*: the page the broker returns to, which redeems the
code server-side with the app's own credentials and shows the linked account."""

from __future__ import annotations

import json

import requests
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from project.sandbox.management.commands.aurinko_demo import demo_client_file


def _client() -> dict[str, str]:
    return json.loads(demo_client_file().read_text())


@require_http_methods(["GET", "POST"])
def return_page(request: HttpRequest) -> HttpResponse:
    context: dict[str, object] = {"query": sorted(request.GET.items())}
    code = request.POST.get("code") if request.method == "POST" else None
    if code:
        client = _client()
        base = settings.AURINKO_AUTH["PUBLIC_URL"].rstrip("/")
        exchanged = requests.post(
            f"{base}/v1/auth/token/{code}",
            timeout=10,
            auth=(client["clientId"], client["clientSecret"]),
        )
        context["exchange_status"] = exchanged.status_code
        body = exchanged.json()
        if exchanged.ok:
            token = body["accessToken"]
            account = requests.get(
                f"{base}/v1/account", timeout=10, headers={"Authorization": f"Bearer {token}"}
            )
            context["account"] = json.dumps(account.json(), indent=2, ensure_ascii=False)
            body = {**body, "accessToken": token[:8] + "…"}  # the app keeps it; we show less
        context["exchange"] = json.dumps(body, indent=2, ensure_ascii=False)
    else:
        context["code"] = request.GET.get("code")
    return render(request, "demo/return.html", context)
