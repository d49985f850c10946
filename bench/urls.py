from django.urls import include, path

from bench import views

urlpatterns = [
    path("", include("aurinko_auth.urls")),
    path("bench/bare", views.bare),
    # The same view where the project's JSON API lives: it skips the session, auth and
    # messages middleware like the API does (project/middleware.py), a like-for-like ceiling.
    path("v1/bench/bare", views.bare),
    path("bench/dot", views.DotResource.as_view()),
    path("bench/revoke", views.revoke),
]
