from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from project.sandbox import api, daemon, sugarcrm, zoho

urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("api/me", api.MeView.as_view(), name="sandbox-api-me"),
    path(
        "hubspot/access-tokens/<str:token>",
        api.hubspot_token_info,
        name="sandbox-hubspot-token-info",
    ),
    re_path(r"^api/echo(?:/.*)?$", api.EchoView.as_view(), name="sandbox-api-echo"),
    # Service-account stand-ins (Microsoft admin consent, per-tenant token, Google JWT grant).
    path("adminconsent/<str:tenant>/", daemon.admin_consent, name="sandbox-adminconsent"),
    path("t/<str:tenant>/token/", daemon.tenant_token, name="sandbox-tenant-token"),
    path("jwt/token/", daemon.jwt_token, name="sandbox-jwt-token"),
    # SugarCRM's REST API v11 (the instance URL is {sandbox}/sandbox).
    path("rest/v11/oauth2/token", sugarcrm.token, name="sandbox-sugar-token"),
    path("rest/v11/oauth2/logout", sugarcrm.logout, name="sandbox-sugar-logout"),
    path("rest/v11/me", sugarcrm.me, name="sandbox-sugar-me"),
    # Zoho Accounts, one accounts server per data centre (zoho/accounts.zoho.eu/...).
    path("zoho/<str:host>/oauth/v2/auth", zoho.authorize, name="sandbox-zoho-authorize"),
    path("zoho/<str:host>/oauth/v2/token", zoho.token, name="sandbox-zoho-token"),
    path("zoho/<str:host>/oauth/v2/token/revoke", zoho.revoke, name="sandbox-zoho-revoke"),
    path("zoho/<str:host>/oauth/user/info", zoho.user_info, name="sandbox-zoho-user-info"),
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="sandbox/login.html"),
        name="sandbox-login",
    ),
    path(
        "logout/", auth_views.LogoutView.as_view(next_page="/sandbox/login/"), name="sandbox-logout"
    ),
]
