"""The hot path: what every authenticated API request runs. The lookups are free of DRF, so
any view (and the benchmarks) can use them:

* :mod:`~aurinko_auth.hotpath.auth`: the principal, credential parsing, client
  credentials (``Authorization: Basic base64(clientId:clientSecret)``), the CSRF rule;
* :mod:`~aurinko_auth.hotpath.tokens`: account tokens (``Authorization: Bearer aat_...``), one
  indexed query;
* :mod:`~aurinko_auth.hotpath.sessions`: user sessions (the ``AUR{appId}`` cookie or
  ``X-Aurinko-Session``), one indexed query;
* :mod:`~aurinko_auth.hotpath.cache`: the shared account-token cache (``AUTH_CACHE``);
* :mod:`~aurinko_auth.hotpath.local` and :mod:`~aurinko_auth.hotpath.channel`: the
  per-process level in front of it and its invalidation channel (``AUTH_LOCAL_CACHE``);
* :mod:`~aurinko_auth.hotpath.rowquery`: the one SQL compiler of these lookups, and
  :mod:`~aurinko_auth.hotpath.prepared`: how its hot reads use the connection
  (``AUTH_PREPARED_QUERY``).

The lean views that answer the hottest requests without DRF on top of these lookups are API
views: :mod:`aurinko_auth.api.lean`.
"""
