"""Facts the README and docs state, held against the code (issue 18 item 14)."""

from __future__ import annotations

import io
import json
import re
import shlex
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

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


DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def fenced_and_prose(text: str) -> tuple[list[str], str]:
    """The fenced code blocks of a Markdown text, and the rest with each inline code span on
    one line (a span may wrap in the source)."""
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, re.S | re.M)
    prose = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.S | re.M)
    prose = re.sub(r"`[^`]+`", lambda m: m.group(0).replace("\n", " "), prose)
    return blocks, prose


def documented_app_commands() -> list[tuple[str, str]]:
    """Every ``manage.py aurinko_app ...`` the docs and their examples show: (file, arguments
    after it)."""
    found = []
    for path in DOCS:
        blocks, prose = fenced_and_prose(path.read_text().replace("\\\n", " "))
        for text in [*blocks, prose]:
            for args in re.findall(r"manage\.py aurinko_app ([^\n`]*)", text):
                found.append((path.name, re.sub(r"\s+#.*$", "", args).strip()))
    for path in sorted((ROOT / "docs" / "examples").rglob("*")):
        if path.is_file():
            text = path.read_text(errors="replace")
            for args in re.findall(r"manage\.py aurinko_app ([^\n`]*)", text):
                found.append((path.name, re.sub(r"\s+#.*$", "", args).strip()))
    return found


def app_command_parser():
    from aurinko_auth.management.commands.aurinko_app import Command

    return Command().create_parser("manage.py", "aurinko_app")


def subcommands(parser) -> dict:
    import argparse

    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def test_every_aurinko_app_command_in_the_docs_parses():
    """What the docs tell an owner to run is accepted by the command: subcommand, options and
    arguments (``[...]`` marks an optional part; ``...`` alone abbreviates a command, whose
    named options must still exist)."""
    commands = documented_app_commands()
    assert len(commands) > 20
    for name, args in commands:
        words = shlex.split(re.sub(r"\[([^\[\]]*)\]", r"\1", args))
        if "..." in words:  # an abbreviation: the subcommand and the options it names
            sub = subcommands(app_command_parser())
            assert words[0] in sub, (name, args)
            known = {o for a in sub[words[0]]._actions for o in a.option_strings}
            named = {w.split("=", 1)[0] for w in words if w.startswith("--")}
            assert named <= known, (name, args, named - known)
            continue
        try:
            app_command_parser().parse_args(words)
        except (SystemExit, CommandError) as exc:
            raise AssertionError(f"{name}: aurinko_app {args} is refused: {exc}") from None


def test_the_readme_lists_every_aurinko_app_subcommand():
    listed = re.search(r"\*\*Commands\.\*\* `aurinko_app ([a-z|-]+)`", README)
    assert listed, "the README's Commands paragraph"
    assert set(listed.group(1).split("|")) == set(subcommands(app_command_parser()))


def documented_app_outputs() -> list[tuple[str, list[list[str]], dict]]:
    """Commands shown with what they print, in the docs' indented code blocks: (file, the
    block's ``aurinko_app`` commands up to the output, the JSON output, which may wrap)."""
    found = []
    for path in DOCS:
        text = path.read_text().replace("\\\n", " ")
        for block in re.findall(r"((?:^ {4}[^\n]*\n)+)", text, re.M):
            lines = [line.strip() for line in block.splitlines()]
            commands: list[list[str]] = []
            for at, line in enumerate(lines):
                if "manage.py aurinko_app " in line:
                    args = re.sub(r"\s+#.*$", "", line.split("manage.py aurinko_app ", 1)[1])
                    commands.append(shlex.split(args))
                elif line.startswith("{") and commands and "aurinko_app" in lines[at - 1]:
                    end = next(
                        e for e in range(at + 1, len(lines) + 1) if parses(" ".join(lines[at:e]))
                    )
                    found.append((path.name, list(commands), json.loads(" ".join(lines[at:end]))))
    return found


def parses(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@pytest.mark.django_db
def test_documented_aurinko_app_output_is_what_the_command_prints():
    """A command shown with its output (``"..."`` standing for any value): run with the
    commands before it in its block, on a fresh app holding the return URLs they name, it
    prints those keys and values."""
    from aurinko_auth import services

    outputs = [o for o in documented_app_outputs() if o[1][-1][0] != "create"]
    assert len(outputs) >= 3  # create prints a new secret: tests/install checks its keys
    for name, commands, sample in outputs:
        urls = [w for c in commands for w in c if w.startswith("https://")]
        app, _ = services.create_app(
            name="Docs", return_urls=["https://app.example.com/cb", *urls], scopes="Mail.Read"
        )
        for words in commands:
            out = io.StringIO()
            call_command(
                "aurinko_app",
                *[app.client_id if w == "CLIENT_ID" else w for w in words],
                stdout=out,
            )
        printed = json.loads(out.getvalue())
        assert set(printed) == set(sample), (name, sample, printed)
        for key, value in sample.items():
            if value != "...":
                assert printed[key] == value, (name, sample, printed)


def test_error_codes_the_docs_name_with_a_status_are_the_catalogues():
    """`403 origin.not_allowed` and the like: a code the docs give with its status is one the
    broker answers (docs/user-flow.md once said `origin_not_allowed`)."""
    from aurinko_auth.errorcodes import Code

    named = [
        (path.name, code)
        for path in DOCS
        for code in re.findall(r"`[1-5]\d\d ([a-z][a-z_.]*)`", path.read_text())
    ]
    assert len(named) > 20
    assert [n for n in named if n[1] not in {c.value for c in Code}] == []


def test_the_readme_lists_the_statuses_errors_are_answered_with():
    from aurinko_auth.errorcodes import Code

    listed = re.search(
        r"with their code's status in \[docs/errors\.md\]\S*\s+\(([\d, ]+)\)", README
    )
    assert listed, "the README's sentence on API errors"
    assert [int(n) for n in listed.group(1).split(", ")] == sorted({c.status for c in Code})
