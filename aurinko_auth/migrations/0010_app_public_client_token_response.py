from django.db import migrations, models


class Migration(migrations.Migration):
    """Public clients (PKCE) and responseType=token as an opt-in. The data step: the column is
    added with default True, so every existing app keeps responseType=token, then the default
    becomes False for apps created from now on."""

    dependencies = [
        ("aurinko_auth", "0009_hubspot_service_type"),
    ]

    operations = [
        migrations.AddField(
            model_name="app",
            name="public_client",
            field=models.BooleanField(
                default=False,
                help_text="Pages and extensions without a backend: every flow needs "
                "code_challenge (S256), the code is redeemed with code_verifier and no client "
                "secret.",
                verbose_name="public client (PKCE)",
            ),
        ),
        migrations.AddField(
            model_name="app",
            name="token_response",
            field=models.BooleanField(default=True, verbose_name="allow responseType=token"),
        ),
        migrations.AlterField(
            model_name="app",
            name="token_response",
            field=models.BooleanField(
                default=False,
                help_text="Discouraged: the account token travels in the return URL. Prefer a "
                "code (with PKCE for public clients).",
                verbose_name="allow responseType=token",
            ),
        ),
    ]
