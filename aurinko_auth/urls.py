from django.urls import path, re_path

from aurinko_auth import views
from aurinko_auth.api import svc_views, user_views
from aurinko_auth.api import views as api
from aurinko_auth.api.direct import DirectAPIView
from aurinko_auth.api.lean import lean_account_view, lean_user_view
from aurinko_auth.api.schema import schema_view
from aurinko_auth.guards import guarded, not_found
from aurinko_auth.health import health_view

app_name = "aurinko_auth"

urlpatterns = [
    path("v1/auth/authorize", guarded(views.authorize_view, browser=True), name="authorize"),
    path(
        "v1/auth/authorizeUser",
        guarded(views.authorize_user_view, browser=True),
        name="authorize-user",
    ),
    path(
        "v1/auth/authorizeDaemon",
        guarded(views.authorize_daemon_view, browser=True),
        name="authorize-daemon",
    ),
    path("v1/auth/callback", guarded(views.callback_view, browser=True), name="callback"),
    path(
        "v1/auth/password/<str:state>", guarded(views.password_view, browser=True), name="password"
    ),
    path("v1/auth/done", guarded(views.done_view, browser=True), name="done"),
    path("v1/auth/prepare", guarded(api.PrepareAuthView.as_view()), name="prepare"),
    path("v1/auth/token/<str:code>", guarded(api.TokenExchangeView.as_view()), name="token"),
    path("v1/auth/cookie", guarded(user_views.SessionCookieView.as_view()), name="cookie"),
    path("v1/user", guarded(lean_user_view(user_views.UserView)), name="user"),
    path("v1/user/logout", guarded(user_views.LogoutView.as_view()), name="user-logout"),
    path("v1/user/accounts", guarded(user_views.UserAccountsView.as_view()), name="user-accounts"),
    path(
        "v1/user/accounts/<str:account_id>",
        guarded(user_views.UserAccountView.as_view()),
        name="user-account",
    ),
    path(
        "v1/user/accounts/<str:account_id>/managed",
        guarded(user_views.UserAccountManagedView.as_view()),
        name="user-account-managed",
    ),
    path(
        "v1/user/settings",
        guarded(user_views.UserSettingsView.as_view()),
        name="user-settings",
    ),
    path("v1/user/sessions", guarded(user_views.SessionsView.as_view()), name="user-sessions"),
    path(
        "v1/user/sessions/<str:session_id>",
        guarded(user_views.SessionView.as_view()),
        name="user-session",
    ),
    path("v1/account", guarded(lean_account_view(api.AccountView)), name="account"),
    path("v1/account/token", guarded(api.AccountTokenView.as_view()), name="account-token"),
    path("v1/am/accounts", guarded(api.AmAccountsView.as_view()), name="am-accounts"),
    path(
        "v1/am/accounts/connect",
        guarded(api.AmAccountConnectView.as_view()),
        name="am-accounts-connect",
    ),
    path(
        "v1/am/accounts/<str:account_id>", guarded(api.AmAccountView.as_view()), name="am-account"
    ),
    path(
        "v1/am/svc_accounts",
        guarded(svc_views.SvcAccountsView.as_view()),
        name="am-svc-accounts",
    ),
    path(
        "v1/am/svc_accounts/<str:acc_id>/accounts",
        guarded(svc_views.ManagedAccountsView.as_view()),
        name="am-svc-managed-accounts",
    ),
    re_path(
        r"^v1/direct/(?P<path>.*)$", guarded(DirectAPIView.as_view(), body=False), name="direct"
    ),
    path("v1/health", guarded(health_view), name="health"),
    path("v1/schema", guarded(schema_view, store=True), name="schema"),
    # Last: the rest of our own namespaces is a JSON 404 (guards.not_found).
    re_path(r"^v1/(?:auth|user|account|am)(?:/.*)?$", guarded(not_found), name="not-found"),
]
