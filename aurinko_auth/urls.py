from django.urls import path

from aurinko_auth import views
from aurinko_auth.api import views as api

app_name = "aurinko_auth"

urlpatterns = [
    path("v1/auth/authorize", views.authorize_view, name="authorize"),
    path("v1/auth/authorizeDaemon", views.authorize_daemon_view, name="authorize-daemon"),
    path("v1/auth/callback", views.callback_view, name="callback"),
    path("v1/auth/token/<str:code>", api.TokenExchangeView.as_view(), name="token"),
    path("v1/account", api.AccountView.as_view(), name="account"),
    path("v1/account/token", api.AccountTokenView.as_view(), name="account-token"),
    path("v1/am/accounts", api.AmAccountsView.as_view(), name="am-accounts"),
    path("v1/am/accounts/<str:account_id>", api.AmAccountView.as_view(), name="am-account"),
]
