from django.db import migrations, models


class Migration(migrations.Migration):
    """When the provider issued an account's current access token (Aurinko's tokenIssuedAt);
    unknown (null) for accounts linked before."""

    dependencies = [
        ("aurinko_auth", "0017_account_parent_managed"),
    ]

    operations = [
        migrations.AddField(
            model_name="account",
            name="access_token_issued_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
