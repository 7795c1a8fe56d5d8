"""Admin of the 消息中心 (issue 21), for the city administrator: who was told what, and whether they
read it. Read-only: messages are written by the nightly digest and marked read by their reader. A
message carries counts and links, never an ID number or a phone."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from households.admin import ReadOnlyAdmin
from notices.models import Notice


@admin.register(Notice)
class NoticeAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "kind", "title", "is_read")
    list_filter = ("kind", ("read_at", admin.EmptyFieldListFilter), "created_at")
    search_fields = ("user__username", "title")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    fields = ("user", "kind", "title", "body", "link", "created_at", "read_at")
    readonly_fields = fields

    @admin.display(description=_("已读"), boolean=True, ordering="read_at")
    def is_read(self, notice: Notice) -> bool:
        return notice.read_at is not None
