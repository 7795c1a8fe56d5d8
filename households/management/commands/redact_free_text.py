"""``manage.py redact_free_text``: mask the ID and phone numbers already stored in notes, petition
contents, action descriptions, transfer reasons, case notes and sign-off notes (issue 17 finding 8;
phones since the issue 20 follow-up). Safe to run again: it changes nothing the second time."""

from typing import Any

from django.core.management.base import BaseCommand

from core.free_text import SWEPT_TEXT_FIELDS, redact_stored_free_text


class Command(BaseCommand):
    help = "把备注、信访内容、帮扶措施等文字中的完整身份证号隐去，电话号码改为脱敏形式（138****5678）。"

    def handle(self, *args: Any, **options: Any) -> None:
        changed = redact_stored_free_text(texts=SWEPT_TEXT_FIELDS)
        self.stdout.write(f"已脱敏 {changed} 条记录中的身份证号和电话号码。")
