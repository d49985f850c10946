from __future__ import annotations

import pytest
from django.core.cache import cache

from aurinko_auth.identity import keys
from aurinko_auth.models import IdentityTrust
from tests.identity.issuer import ADDIN_URL, ENTRA_AUDIENCE, GOOGLE_AUDIENCE, Issuer
from tests.user.conftest import sign_in  # noqa: F401  (the User flow through the views)


@pytest.fixture
def issuer():
    keys.clear()
    cache.clear()
    served = Issuer()
    yield served
    served.close()
    keys.clear()
    cache.clear()


@pytest.fixture
def trust_factory(db, app_factory, issuer):
    """``trust_factory(token_type, app=None, **fields) -> IdentityTrust`` at the local issuer."""

    defaults = {
        "entraIdToken": {
            "audiences": [ENTRA_AUDIENCE],
            "issuer": issuer.base + "/{tid}/v2.0",
        },
        "googleIdToken": {
            "audiences": [GOOGLE_AUDIENCE],
            "jwks_url": issuer.base + "/keys",
        },
        "exchangeIdToken": {"audiences": [ADDIN_URL]},
    }

    def make(token_type: str, app=None, **fields) -> IdentityTrust:
        if app is None:
            app, _ = app_factory()
        return IdentityTrust.objects.create(
            app=app, token_type=token_type, **{**defaults[token_type], **fields}
        )

    return make
