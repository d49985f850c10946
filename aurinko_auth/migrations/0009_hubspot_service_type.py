"""Aurinko spells the service type ``Hubspot`` (its OpenAPI's ServiceType enum, seed 001):
stored ``HubSpot`` values become ``Hubspot`` (input stays case-insensitive)."""

from django.db import migrations

MODELS = ("Account", "ProviderConfig", "AuthState")


def forwards(apps, schema_editor):
    for name in MODELS:
        apps.get_model("aurinko_auth", name).objects.filter(service_type__iexact="hubspot").update(
            service_type="Hubspot"
        )


def backwards(apps, schema_editor):
    for name in MODELS:
        apps.get_model("aurinko_auth", name).objects.filter(service_type="Hubspot").update(
            service_type="HubSpot"
        )


class Migration(migrations.Migration):
    dependencies = [("aurinko_auth", "0008_identity_tokens")]

    operations = [migrations.RunPython(forwards, backwards, elidable=True)]
