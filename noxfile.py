"""The support matrix: each supported Django on the Pythons it supports.

``make test`` runs the whole suite on the development virtualenv (Python 3.11, Django 5.2 LTS).
``make test-matrix`` (``nox``) runs the suite without its end-to-end tests on the other
combinations, each in a fresh virtualenv installed from this checkout's ``test`` extra with the
given Django pinned, so that a break on a newer Django or Python shows in CI. Pass pytest
arguments after ``--``: ``nox -s "tests(python='3.13', django='6.1')" -- tests/api``.

Django 4.2 LTS is not in the matrix: its support ended in April 2026.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = True
nox.options.reuse_existing_virtualenvs = True

# (python, django): each Django release on the oldest and newest Python it supports that this
# machine family has. Django 6.x needs Python >= 3.12.
MATRIX = [
    ("3.12", "5.2"),
    ("3.13", "5.2"),
    ("3.12", "6.0"),
    ("3.13", "6.1"),
]


@nox.session
@nox.parametrize(("python", "django"), MATRIX)
def tests(session: nox.Session, django: str) -> None:
    session.install("-e", ".[test,ews]", f"django~={django}.0")
    installed = session.run(
        "python", "-c", "import django; print(django.get_version())", silent=True
    )
    if not installed.strip().startswith(django + "."):
        session.error(f"wanted Django {django}, the session has {installed.strip()}")
    args = session.posargs or ["-m", "not e2e", "-q", "-p", "no:cacheprovider"]
    session.run("python", "-m", "pytest", *args)
