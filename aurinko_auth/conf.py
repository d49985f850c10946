"""One settings object for aurinko_auth, read from ``settings.AURINKO_AUTH``.

Modelled on DRF's ``api_settings``: defaults live in one place, unknown keys raise, and the
object is reloaded whenever ``AURINKO_AUTH`` changes (``override_settings`` in tests).
The library reads only ``django.conf.settings``; environment variables stop at ``project/``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.urls import reverse

DEFAULTS: dict[str, Any] = {
    # The broker's external base URL, e.g. "https://auth.example.com". Paths come from
    # reverse(), so they follow the host's mount point: mounted at "broker/", the provider
    # callback is https://auth.example.com/broker/v1/auth/callback. A path in PUBLIC_URL is
    # a proxy's prefix the project does not see (FORCE_SCRIPT_NAME is the Django way), or
    # the mount point itself; it is never added twice.
    "PUBLIC_URL": "http://127.0.0.1:8000",
    # Fernet keys (urlsafe base64, 32 bytes). The first encrypts, all decrypt.
    "ENCRYPTION_KEYS": [],
    # Demo mode: allows running without ENCRYPTION_KEYS (a key is derived from SECRET_KEY).
    "DEMO": False,
    # CIDR ranges a user-supplied server may resolve into (password providers, SugarCRM).
    "ALLOWED_PRIVATE_NETWORKS": [],
    # Whether an app's endpoint overrides may point at loopback (a local test provider). Off:
    # only with Django's DEBUG. Overrides pass the SSRF guard like user-named servers.
    "ALLOW_LOOPBACK_ENDPOINTS": False,
    # Provider classes, by dotted path; each declares its own service type id.
    "PROVIDERS": [
        "aurinko_auth.providers.google.GoogleProvider",
        "aurinko_auth.providers.office365.Office365Provider",
        "aurinko_auth.providers.imap.IMAPProvider",
        "aurinko_auth.providers.ews.EWSProvider",
        "aurinko_auth.providers.zoho.ZohoProvider",
        "aurinko_auth.providers.salesforce.SalesforceProvider",
        "aurinko_auth.providers.hubspot.HubSpotProvider",
        "aurinko_auth.providers.sugarcrm.SugarCRMProvider",
    ],
    # Lifetimes, in seconds.
    "STATE_TTL": 600,
    "CODE_TTL": 120,
    # Refresh a provider access token this many seconds before it expires.
    "REFRESH_LEEWAY": 120,
    # Outgoing HTTP timeouts (connect, read) in seconds, or one number for both (as for every
    # *_TIMEOUT pair below).
    "HTTP_TIMEOUT": (5.0, 20.0),
    # Longest wait, in seconds, for another worker's refresh of the same account (the row lock
    # is held during that refresh's HTTP call, itself bounded by HTTP_TIMEOUT).
    "REFRESH_LOCK_TIMEOUT": 25,
    # Backoff after a transient refresh failure: BASE * 2**(failures - 1) seconds, at most MAX
    # (a provider's Retry-After wins). Configuration errors wait MAX.
    "REFRESH_RETRY_BASE": 15,
    "REFRESH_RETRY_MAX": 900,
    # The Direct API (/v1/direct/...): timeouts (connect, read), size limits in bytes, and rate
    # limits "N/s", "N/m", "N/h" or "N/d" per account and per app (None: unlimited).
    "DIRECT_TIMEOUT": (5.0, 60.0),
    "DIRECT_MAX_REQUEST_BYTES": 10 * 1024 * 1024,
    "DIRECT_MAX_RESPONSE_BYTES": 50 * 1024 * 1024,
    "DIRECT_RATE_LIMIT_ACCOUNT": "300/m",
    # When the provider answers 401 to a token we held for valid, refresh and retry the call
    # once; at most this often per account, so an API that always says 401 cannot turn every
    # call into a refresh (None: never).
    "DIRECT_REFRESH_ON_401": "1/5m",
    "DIRECT_RATE_LIMIT_APP": "3000/m",
    # The Django cache alias rate limits count in. Share it between workers and machines
    # (Redis: CACHE_URL=redis://...); a per-process cache counts per worker.
    "RATE_LIMIT_CACHE": "default",
    # The cookie that binds a pending authorization to the browser that started it.
    "FLOW_COOKIE_NAME": "aurinko_flow",
    "FLOW_COOKIE_SAMESITE": "Lax",
    # Password sign-in: a CA bundle for servers with private CAs (None: the system's; EWS,
    # IMAP and SugarCRM instances), and (connect, read) timeouts of the EWS/IMAP login check.
    "PASSWORD_CA_BUNDLE": None,
    "PASSWORD_TIMEOUT": (5.0, 15.0),
    # Failed sign-ins on the hosted password form (EWS, IMAP, SugarCRM), per client IP and
    # per login; once used up the form answers 429 until the window ends. None: no limit.
    "PASSWORD_FAILURE_RATE_IP": "30/h",
    # Refused host identity tokens (POST /v1/auth/prepare, identity-token API calls) per
    # client IP: each may cost a key fetch; once used up the API answers 429. None: no limit.
    "IDENTITY_FAILURE_RATE_IP": "60/m",
    "PASSWORD_FAILURE_RATE_LOGIN": "10/h",
    # Failed admin sign-ins per account (username) and per client address; once used up the
    # admin login refuses until the window ends (aurinko_auth.admin.login). None: no limit.
    "ADMIN_LOGIN_RATE_ACCOUNT": "5/15m",
    "ADMIN_LOGIN_RATE_IP": "30/15m",
    # "required": staff sign in to the admin with a second factor (TOTP or a recovery code,
    # by django-otp: aurinko_auth.admin.mfa; needs its apps in INSTALLED_APPS). None: off.
    "ADMIN_MFA": None,
    # Cache alias for account-token lookups shared by every worker (e.g. "default" backed by
    # Redis), or None. With a cache, an authenticated request costs no query; deleting a
    # token, changing or deleting an account or an app replaces its entries by tombstones once
    # it commits; changes written without signals (the refresher's tokenStatus) show within
    # AUTH_CACHE_TIMEOUT. A per-process cache (locmem) only invalidates in its own process
    # (system check W040).
    "AUTH_CACHE": None,
    "AUTH_CACHE_TIMEOUT": 30,
    # The per-process level in front of it (or of the database), for several workers on
    # several machines (docs/caching.md): None (off), "postgresql" (invalidations over
    # LISTEN/NOTIFY on the tokens' database), "redis" (pub/sub on AUTH_CACHE's Redis server)
    # or a redis:// URL. Every worker drops what a revocation, deletion, disabled app or
    # rotated secret affects once it commits; a worker that lost the channel keeps entries
    # at most AUTH_LOCAL_CACHE_FALLBACK_TTL seconds (it logs the loss and the recovery).
    # Entries live at most AUTH_CACHE_TIMEOUT seconds; at most AUTH_LOCAL_CACHE_SIZE of them.
    "AUTH_LOCAL_CACHE": None,
    "AUTH_LOCAL_CACHE_SIZE": 10_000,
    "AUTH_LOCAL_CACHE_FALLBACK_TTL": 1.0,
    # The account-token read's use of its connection (aurinko_auth/hotpath/prepared.py):
    # PostgreSQL prepares the query once per connection (PREPARE) instead of planning its
    # three-table join on every request (most of the query's cost), and on any database the
    # read stands in for CONN_HEALTH_CHECKS' "SELECT 1" (a dead connection is replaced and the
    # read retried once). Off: plain queries, Django's own health check. Turn off behind a
    # pooler in transaction mode that does not keep prepared statements (PgBouncer before
    # 1.21, or max_prepared_statements = 0).
    "AUTH_PREPARED_QUERY": True,
    # User flow sessions (seconds): ended after SESSION_IDLE_TIMEOUT without use, and in any
    # case SESSION_LIFETIME after sign-in. Last use is written at most every
    # SESSION_TOUCH_INTERVAL seconds, so a session read stays one query.
    "SESSION_IDLE_TIMEOUT": 14 * 24 * 3600,
    "SESSION_LIFETIME": 60 * 24 * 3600,
    "SESSION_TOUCH_INTERVAL": 60,
    # The session cookie: "{app_id}" is the app's numeric id (Aurinko's AUR{appId}).
    "SESSION_COOKIE_NAME": "AUR{app_id}",
    "SESSION_COOKIE_DOMAIN": None,
    # "None" lets add-ins in iframes and pages on other sites use the cookie (with CORS).
    "SESSION_COOKIE_SAMESITE": "None",
    "SESSION_COOKIE_SECURE": True,
    # userSignature (secondary linking without the cookie): largest accepted clock difference.
    "USER_SIGNATURE_MAX_AGE": 300,
    # CORS with credentials for the apps' return-URL origins on the session API; extra origins
    # allowed for every app, and how long browsers may cache a preflight (seconds).
    "CORS_EXTRA_ORIGINS": [],
    "CORS_MAX_AGE": 600,
    # Webhooks (docs/webhooks.md): per-attempt (connect, read) timeout, attempts before an
    # event is dead, backoff base/cap in seconds, and how long a claimed event stays leased.
    "WEBHOOK_TIMEOUT": (3.0, 10.0),
    "WEBHOOK_MAX_ATTEMPTS": 10,
    "WEBHOOK_BACKOFF_BASE": 10,
    "WEBHOOK_BACKOFF_MAX": 6 * 3600,
    "WEBHOOK_LEASE": 120,
    # Longest accepted query parameter values.
    "MAX_RETURN_URL_LENGTH": 2048,
    "MAX_STATE_LENGTH": 1024,
}


class AurinkoSettings:
    """Attribute access to ``AURINKO_AUTH`` with defaults."""

    def __init__(self, user_settings: dict[str, Any] | None = None) -> None:
        self._user_settings = user_settings
        self._cached: dict[str, Any] = {}

    @property
    def user_settings(self) -> dict[str, Any]:
        if self._user_settings is None:
            self._user_settings = dict(getattr(django_settings, "AURINKO_AUTH", {}) or {})
            unknown = set(self._user_settings) - set(DEFAULTS)
            if unknown:
                raise ImproperlyConfigured(
                    f"Unknown AURINKO_AUTH setting(s): {', '.join(sorted(unknown))}"
                )
        return self._user_settings

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in DEFAULTS:
            raise AttributeError(f"Invalid aurinko_auth setting: {name!r}")
        if name not in self._cached:
            self._cached[name] = self.user_settings.get(name, DEFAULTS[name])
        return self._cached[name]

    def timeout(self, name: str) -> tuple[float, float]:
        """A timeout setting as requests' (connect, read): one number stands for both."""
        value = getattr(self, name)
        if isinstance(value, int | float):
            return float(value), float(value)
        connect, read = value
        return float(connect), float(read)

    @property
    def public_url(self) -> str:
        return str(self.PUBLIC_URL).rstrip("/")

    def absolute_url(self, path: str) -> str:
        """``path`` (from ``reverse()``: the script prefix and the mount point included) on
        the public URL."""
        base = self.public_url
        parts = urlsplit(base)
        if parts.path and (path == parts.path or path.startswith(parts.path + "/")):
            base = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        return base + path

    def path(self, name: str, **kwargs: Any) -> str:
        """The path of one of our views, by its name in ``aurinko_auth/urls.py``, where the
        host mounted them."""
        return reverse(f"aurinko_auth:{name}", kwargs=kwargs or None)

    def url(self, name: str, **kwargs: Any) -> str:
        """The public URL of one of our views."""
        return self.absolute_url(self.path(name, **kwargs))

    @property
    def mount_path(self) -> str:
        """Where the host mounted our URLs: "/" or e.g. "/broker/" (the session cookie's
        path)."""
        return self.path("health").removesuffix("v1/health")

    @property
    def auth_path(self) -> str:
        """ "/v1/auth/" under the mount point (the flow cookie's path)."""
        return self.path("callback").removesuffix("callback")

    @property
    def callback_url(self) -> str:
        return self.url("callback")

    def reload(self) -> None:
        self._user_settings = None
        self._cached = {}


aurinko_settings = AurinkoSettings()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting in ("AURINKO_AUTH", "SECRET_KEY"):
        aurinko_settings.reload()


setting_changed.connect(_reload)
