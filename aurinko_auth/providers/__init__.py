"""Providers: the protocol (``base``), the OAuth 2.0 family (``oauth2``, ``responses``), the
hosted-form family (``forms``), the registry, and one small module per provider. See
docs/writing-a-provider.md."""
