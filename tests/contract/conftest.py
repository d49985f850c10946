"""The flows' fixtures, for the conformance tests that drive every flow (Account, User,
Service Account) through the auth endpoints."""

from tests.api.conftest import app_with_account  # noqa: F401
from tests.daemon.conftest import daemon_app, sa_key  # noqa: F401
from tests.flows.conftest import google_app  # noqa: F401
from tests.user.conftest import (  # noqa: F401
    _fresh_origin_cache,
    session_factory,
    sign_in,
    signed_in,
    user_factory,
)
