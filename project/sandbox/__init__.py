"""A sandbox identity provider: django-oauth-toolkit as a real OAuth2/OpenID Connect server.

The demo mounts it under ``/sandbox/`` so a newcomer completes a real Account flow offline,
and the test suite runs it as a separate process (``peer_settings``) as the real OAuth2 server
the end-to-end tests talk to. It stands in for Google and Office 365 through endpoint
overrides (``sandbox_endpoints``); it is not part of the aurinko_auth package.
"""
