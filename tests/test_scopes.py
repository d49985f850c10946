from __future__ import annotations

import pytest

from aurinko_auth.exceptions import InvalidScope
from aurinko_auth.providers.registry import get_provider
from aurinko_auth.scopes import check_allowed, parse_scopes


def test_parse_canonical_dedup_order():
    assert parse_scopes("mail.send, MAIL.READ Mail.Read\tcalendar.read") == [
        "Mail.Read",
        "Mail.Send",
        "Calendar.Read",
    ]
    assert parse_scopes("") == [] and parse_scopes(None) == []


@pytest.mark.parametrize(
    "value", ["Mail.Read Bogus", "https://www.googleapis.com/auth/gmail", "Mail.Read " * 200]
)
def test_parse_rejects(value):
    with pytest.raises(InvalidScope):
        parse_scopes(value)


def test_check_allowed():
    check_allowed(["Mail.Read"], ["Mail.Read", "Mail.Send"])
    with pytest.raises(InvalidScope, match="Calendar.Read"):
        check_allowed(["Mail.Read", "Calendar.Read"], ["Mail.Read"])


def test_native_mapping():
    assert get_provider("Google").native_scopes(["Mail.Send"]) == [
        "https://www.googleapis.com/auth/gmail.send"
    ]
    assert get_provider("Office365").native_scopes(["Calendar.Read"]) == ["Calendars.Read"]
