from __future__ import annotations

import pytest

from tests.flows.conftest import basic


@pytest.fixture
def app_with_account(app_factory, account_factory, account_token_factory):
    """``(app, secret, account, token, basic_header)``."""
    app, secret = app_factory()
    account = account_factory(app, scopes=["Mail.Read"])
    token = account_token_factory(account)
    return app, secret, account, token, basic(app.client_id, secret)
