from django.urls import include, path

urlpatterns = [path("sandbox/", include("project.sandbox.urls"))]
