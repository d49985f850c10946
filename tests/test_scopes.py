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


def test_mail_all_and_mail_readonly():
    # Mail.All is in Aurinko's Scope enum; Mail.ReadOnly is its documentation's Mail.Read.
    assert parse_scopes("mail.all Mail.ReadOnly") == ["Mail.Read", "Mail.All"]
    assert parse_scopes("MAIL.READONLY,Mail.Read") == ["Mail.Read"]


@pytest.mark.parametrize(
    ("service_type", "native"),
    [
        ("Google", ["https://mail.google.com/"]),
        ("Office365", ["Mail.ReadWrite", "Mail.Send"]),
        ("Zoho", ["ZohoMail.messages.ALL", "ZohoMail.accounts.READ", "ZohoMail.folders.ALL"]),
        ("EWS", ["ews"]),
    ],
)
def test_mail_all_is_the_widest_mail_scopes(service_type, native):
    provider = get_provider(service_type)
    assert provider.native_scopes(["Mail.All"]) == native
    assert "Mail.All" in provider.unified_scopes(native)


@pytest.mark.parametrize("service_type", ["IMAP", "Salesforce", "Hubspot", "SugarCRM"])
def test_mail_all_is_refused_where_a_provider_cannot_serve_it(service_type):
    from aurinko_auth.exceptions import UnsupportedScope

    with pytest.raises(UnsupportedScope):
        get_provider(service_type).native_scopes(["Mail.All"])


def test_contract_scopes_are_all_unified_scopes():
    from aurinko_auth.scopes import UNIFIED_SCOPES
    from tests.contract.conformance import contract

    assert set(contract()["schemas"]["Scope"]["enum"]) == set(UNIFIED_SCOPES)
