"""``export_data KIND FILE [--user NAME] [--masked]``: the template of KIND as .xlsx or .csv, with the
same headers as the import, so that exporting and importing the file back changes nothing."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from households.importing import FileError, export_kind, kind_names


class Command(BaseCommand):
    help = "按导入模板的表头导出一种数据（.xlsx 或 .csv）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("kind", help=f"数据类型：{', '.join(kind_names())}")
        parser.add_argument("file", help="输出文件，.xlsx 或 .csv")
        parser.add_argument("--user", help="以该用户身份导出（辖区与脱敏规则）；缺省为系统（全市，不脱敏）")
        parser.add_argument("--masked", action="store_true", help="身份证号、电话脱敏（431302********1234）")

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user = get_user_model().objects.select_related("area").filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"用户“{options['user']}”不存在。", returncode=2)
        try:
            count = export_kind(options["kind"], options["file"], user=user, masked=True if options["masked"] else None)
        except FileError as error:
            raise CommandError(str(error), returncode=2) from None
        self.stdout.write(f"{options['kind']}: {count} 行 → {options['file']}")
