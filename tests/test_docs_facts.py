"""Facts the README and docs state, held against the code (issue 18 item 14)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from aurinko_auth.api.serializers import AccountSerializer

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_the_readme_account_example_has_every_field_the_api_returns():
    start = README.index(
        'curl -H "Authorization: Bearer aat_..." https://auth.example.com/v1/account'
    )
    body = README[start:].split("\n", 1)[1]
    text = body[: body.index("}") + 1]
    example = json.loads(" ".join(line.strip() for line in text.splitlines()))
    fields = AccountSerializer().fields
    assert list(example) == [name for name in fields if name in example]
    left_out = set(fields) - set(example)
    assert left_out <= {name for name, f in fields.items() if getattr(f, "omit_empty", False)}
    note = body[body.index("}") :].split("\n\n")[1]  # the paragraph after the example
    assert all(f"`{name}`" in note for name in left_out), left_out
    assert example["type"] in ("personal", "daemon", "managed")


def test_token_statuses_in_the_docs_are_the_apis():
    api_values = {"active", "invalid", "dead"}
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for value in re.findall(r'"tokenStatus": "([a-z_]+)"', path.read_text()):
            assert value in api_values, (path.name, value)


@pytest.mark.django_db
def test_an_unknown_client_id_is_client_invalid_as_the_readme_says(client):
    assert "(HTTP 400, `client.invalid`)" in README
    r = client.get(
        "/v1/auth/authorize",
        {"clientId": "nope", "serviceType": "Google", "returnUrl": "https://a.example/cb"},
    )
    assert r.status_code == 400 and b"client.invalid" in r.content


def test_every_aurinko_app_create_example_names_an_owner():
    docs = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for path in docs:
        text = path.read_text().replace("\\\n", " ")
        for command in re.findall(r"manage\.py aurinko_app create[^\n`]*", text):
            assert "--owner" in command, (path.name, command)


def test_the_install_line_is_no_placeholder():
    block = re.search(r"<!-- install:pip -->\n(.*?)<!-- /install:pip -->", README, re.S).group(1)
    assert "..." not in block and "git+https://" not in block
