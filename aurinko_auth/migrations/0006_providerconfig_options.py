"""ProviderConfig.options: provider settings that are not a tenant. SugarCRM's API platform,
kept in ``tenant`` until now, moves to ``options["platform"]`` (and back on reversal)."""

from django.db import migrations, models


def platform_to_options(apps, schema_editor):
    ProviderConfig = apps.get_model("aurinko_auth", "ProviderConfig")
    for config in ProviderConfig.objects.filter(service_type="SugarCRM").exclude(tenant=""):
        config.options = {**(config.options or {}), "platform": config.tenant}
        config.tenant = ""
        config.save(update_fields=["options", "tenant"])


def platform_to_tenant(apps, schema_editor):
    ProviderConfig = apps.get_model("aurinko_auth", "ProviderConfig")
    for config in ProviderConfig.objects.filter(service_type="SugarCRM"):
        options = dict(config.options or {})
        platform = options.pop("platform", "")
        if platform:
            config.tenant, config.options = platform, options
            config.save(update_fields=["options", "tenant"])


class Migration(migrations.Migration):
    dependencies = [("aurinko_auth", "0005_audit_events")]

    operations = [
        migrations.AddField(
            model_name="providerconfig",
            name="options",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text='Settings of this provider, e.g. SugarCRM: {"platform": "acme_sync"}.',
                verbose_name="provider options",
            ),
        ),
        migrations.AlterField(
            model_name="providerconfig",
            name="tenant",
            field=models.CharField(
                blank=True,
                help_text="The directory tenant where the provider has one (Office 365); else empty.",
                max_length=255,
            ),
        ),
        migrations.RunPython(platform_to_options, platform_to_tenant),
    ]
