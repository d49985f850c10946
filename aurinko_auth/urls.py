from django.urls import path, re_path

from aurinko_auth import views
from aurinko_auth.api import user_views
from aurinko_auth.api import views as api
from aurinko_auth.api.direct import DirectAPIView
from aurinko_auth.api.schema import schema_view
from aurinko_auth.health import health_view
from aurinko_auth.hotpath.lean import lean_account_view

app_name = "aurinko_auth"

urlpatterns = [
    path("v1/auth/authorize", views.authorize_view, name="authorize"),
    path("v1/auth/authorizeUser", views.authorize_user_view, name="authorize-user"),
    path("v1/auth/authorizeDaemon", views.authorize_daemon_view, name="authorize-daemon"),
    path("v1/auth/callback", views.callback_view, name="callback"),
    path("v1/auth/password/<str:state>", views.password_view, name="password"),
    path("v1/auth/token/<str:code>", api.TokenExchangeView.as_view(), name="token"),
    path("v1/user", user_views.UserView.as_view(), name="user"),
    path("v1/user/logout", user_views.LogoutView.as_view(), name="user-logout"),
    path(
        "v1/user/accounts/<str:account_id>",
        user_views.UserAccountView.as_view(),
        name="user-account",
    ),
    path("v1/user/sessions", user_views.SessionsView.as_view(), name="user-sessions"),
    path(
        "v1/user/sessions/<str:session_id>", user_views.SessionView.as_view(), name="user-session"
    ),
    path("v1/account", lean_account_view(api.AccountView), name="account"),
    path("v1/account/token", api.AccountTokenView.as_view(), name="account-token"),
    path("v1/am/accounts", api.AmAccountsView.as_view(), name="am-accounts"),
    path("v1/am/accounts/<str:account_id>", api.AmAccountView.as_view(), name="am-account"),
    re_path(r"^v1/direct/(?P<path>.*)$", DirectAPIView.as_view(), name="direct"),
    path("v1/health", health_view, name="health"),
    path("v1/schema", schema_view, name="schema"),
]
