from urllib.parse import urlsplit

from django.db import migrations, models

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url):
    """A registered return URL's origin as browsers send it (return URLs were validated when
    registered: absolute http(s), loopback-only http)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None  # extension pages: public clients, which never get responseType=token
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


def keep_token_responses(apps, schema_editor):
    """responseType=token now goes only to a return URL on a trusted domain: an app that
    allows it gets its return URLs' origins as trusted domains, so every return URL that
    received a token still does. Those origins could already use the session API: nothing
    else changes."""
    App = apps.get_model("aurinko_auth", "App")
    for app in App.objects.filter(token_response=True, public_client=False):
        origins = []
        for url in app.return_urls or []:
            origin = _origin(url)
            if origin and origin not in origins:
                origins.append(origin)
        if origins:
            app.trusted_domains = origins
            app.save(update_fields=["trusted_domains"])


class Migration(migrations.Migration):
    """Aurinko's "trusted domains" per app: origins beyond the return URLs' that may use the
    session API, and the only ones whose return URLs receive responseType=token."""

    dependencies = [
        ("aurinko_auth", "0013_prepared_by_session"),
    ]

    operations = [
        migrations.AddField(
            model_name="app",
            name="trusted_domains",
            field=models.JSONField(
                blank=True,
                default=list,
                help_text="Origins (scheme://host[:port]), matched exactly.",
                verbose_name="trusted domains",
            ),
        ),
        migrations.RunPython(keep_token_responses, migrations.RunPython.noop),
    ]
