from django.conf import settings
from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Aurinko auth broker"
admin.site.site_title = "Aurinko auth broker"
admin.site.index_title = "Your apps"
# Owners see three models: the list pages need the width more than a navigation sidebar.
admin.site.enable_nav_sidebar = False

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
