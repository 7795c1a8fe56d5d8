from django.contrib import admin
from django.urls import include, path

from indicators.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("relocation.api")),
    path("", include("accounts.urls")),
    path("", include("households.urls")),
    path("", include("households.urls_imports")),
    path("", include("indicators.assessment.urls")),
    path("", include("indicators.dashboards.urls")),
    path("", include("workspace.urls")),
    path("", include("signoff.urls")),
    path("", include("monitoring.urls")),
    path("", include("notices.urls")),
    path("", include("deadlines.urls")),
]
