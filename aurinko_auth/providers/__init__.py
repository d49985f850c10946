from aurinko_auth.providers.base import (  # noqa: F401
    FormSignIn,
    OAuth2Provider,
    PasswordProvider,
    Profile,
    Provider,
    TokenSet,
)
