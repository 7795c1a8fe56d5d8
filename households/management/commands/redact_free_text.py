"""``manage.py redact_free_text``: mask the ID numbers already stored in notes, petition contents
and action descriptions (issue 17 finding 8). Safe to run again: it changes nothing the second time."""

from typing import Any

from django.core.management.base import BaseCommand

from core.free_text import redact_stored_free_text


class Command(BaseCommand):
    help = "把备注、信访内容、帮扶措施等文字中的完整身份证号改为脱敏形式（前6后4）。"

    def handle(self, *args: Any, **options: Any) -> None:
        changed = redact_stored_free_text()
        self.stdout.write(f"已脱敏 {changed} 条记录中的身份证号。")
