"""The error-code catalogue: documented, used everywhere, one style."""

import ast
import re
from pathlib import Path

import pytest

from aurinko_auth.errorcodes import Code
from aurinko_auth.exceptions import AurinkoError

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "aurinko_auth"


def test_every_code_is_dotted_and_documented_with_its_status():
    doc = (ROOT / "docs" / "errors.md").read_text()
    documented = dict(re.findall(r"^\| `([a-z_.]+)` \| (\d{3}) \|", doc, re.M))
    assert documented == {c.value: str(c.status) for c in Code}
    for code in Code:
        assert re.fullmatch(r"[a-z_]+\.[a-z_]+", code.value), code


def test_codes_behave_as_their_strings():
    assert Code.STATE_USED == "state.used"
    assert f"{Code.STATE_USED}" == "state.used" and str(Code.STATE_USED) == "state.used"
    assert AurinkoError(code=Code.TOKEN_INVALID).as_dict()["code"].__class__ is str


def _package_sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path, ast.parse(path.read_text(), filename=str(path))


def test_no_code_literal_outside_the_catalogue():
    """Raise sites name a catalogue member (``code=Code.X``), never a bare string (Django's own
    ``ValidationError`` codes are form vocabulary and exempt)."""
    offenders = []
    for path, tree in _package_sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name == "ValidationError":
                    continue
                for kw in node.keywords:
                    if kw.arg == "code" and isinstance(kw.value, ast.Constant):
                        offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
            elif isinstance(node, ast.ClassDef):
                for stmt in node.body:
                    if (
                        isinstance(stmt, ast.Assign)
                        and any(getattr(t, "id", "") == "code" for t in stmt.targets)
                        and isinstance(stmt.value, ast.Constant)
                    ):
                        offenders.append(f"{path.relative_to(ROOT)}:{stmt.lineno}")
    assert offenders == []


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@pytest.mark.parametrize("module", ["aurinko_auth.urls", "aurinko_auth.admin"])
def test_every_error_class_defaults_to_a_catalogue_code(module):
    __import__(module)
    classes = [AurinkoError, *_subclasses(AurinkoError)]
    assert len(classes) > 20
    for cls in classes:
        assert isinstance(cls.code, Code), cls
        # The class answers with its code's status, except where its docstring says why not.
        if cls.status != cls.code.status:
            assert "answers the same code with" in (cls.__doc__ or ""), cls
