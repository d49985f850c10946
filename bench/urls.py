from django.urls import include, path

from bench import views

urlpatterns = [
    path("", include("aurinko_auth.urls")),
    path("bench/bare", views.bare),
    path("bench/dot", views.DotResource.as_view()),
]
