"""What the sandbox remembers beside django-oauth-toolkit's own tables."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class SugarSession(models.Model):
    """The SugarCRM ``platform`` an access token was issued for: Sugar keeps one session per
    user and platform, so a new password login on a platform ends the previous one."""

    # The sandbox never swaps django-oauth-toolkit's models.
    access_token = models.OneToOneField(
        "oauth2_provider.AccessToken", on_delete=models.CASCADE, related_name="sugar_session"
    )
    platform = models.CharField(max_length=127)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Sugar session on {self.platform} (#{self.pk})"


class ZohoToken(models.Model):
    """Which of the sandbox's Zoho data centres issued a code or refresh token (by its
    SHA-256): like Zoho, a data centre refuses what another one issued."""

    checksum = models.CharField(max_length=64, unique=True)
    accounts_host = models.CharField(max_length=64)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Zoho token of {self.accounts_host} (#{self.pk})"


class UsedAssertion(models.Model):
    """A client assertion's ``jti`` the token endpoint accepted: like Microsoft, the sandbox
    refuses an assertion used twice."""

    jti = models.CharField(max_length=255, unique=True)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"assertion {self.jti}"


class DirectoryRole(models.Model):
    """A Microsoft Entra directory role of a sandbox user (its role template id, as ID tokens
    name it in ``wids``): the Office 365 daemon flow's admin sign-in checks for one that can
    give admin consent."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sandbox_directory_roles"
    )
    role_template_id = models.CharField(max_length=36)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role_template_id"], name="sandbox_directory_role_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} holds {self.role_template_id}"
