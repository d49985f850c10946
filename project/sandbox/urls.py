from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from project.sandbox import api

urlpatterns = [
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
    path("api/me", api.MeView.as_view(), name="sandbox-api-me"),
    re_path(r"^api/echo(?:/.*)?$", api.EchoView.as_view(), name="sandbox-api-echo"),
    path("login/", auth_views.LoginView.as_view(template_name="sandbox/login.html"),
         name="sandbox-login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="/sandbox/login/"),
         name="sandbox-logout"),
]
