"""The admin site: for the city administrator and superusers only (access.md)."""

from django.contrib import admin
from django.http import HttpRequest


def admin_allowed(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and (user.is_superuser or getattr(user, "role", "") == "city_admin"))


admin.site.has_permission = admin_allowed  # type: ignore[method-assign]  # Django's way to narrow the default site
admin.site.site_header = "娄底市易地扶贫搬迁后续扶持工作平台 · 管理后台"
admin.site.site_title = "管理后台"
