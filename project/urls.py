from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("aurinko_auth.urls")),
]

if getattr(settings, "SANDBOX", False):
    from project import demo

    urlpatterns += [
        path("sandbox/", include("project.sandbox.urls")),
        path("demo/return", demo.return_page, name="demo-return"),
    ]
