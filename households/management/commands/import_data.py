"""``import_data KIND FILE [--dry-run] [--user NAME]`` (interfaces.md).

Exit status: 0 imported (or a clean dry run); 1 invalid rows, each printed as ``row N, 列名: reason``,
nothing written; 2 unreadable file, missing required columns, unknown KIND (or a user/role refused).
"""

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from households.importing import FileError, kind_names, run_import


class Command(BaseCommand):
    help = "导入一种数据模板（.xlsx / .xls / .csv），全部校验通过才写入。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("kind", help=f"数据类型：{', '.join(kind_names())}")
        parser.add_argument("file", help=".xlsx、.xls 或 .csv 文件")
        parser.add_argument("--dry-run", action="store_true", help="只校验并统计，不写入")
        parser.add_argument("--user", help="以该用户身份导入（其辖区与角色权限）；缺省为系统（全市）")

    def handle(self, *args: Any, **options: Any) -> None:
        user = None
        if options["user"]:
            user = get_user_model().objects.select_related("area").filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"用户“{options['user']}”不存在。", returncode=2)
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}", returncode=2)

        def progress(percent: int) -> None:
            if options["verbosity"] > 1:
                self.stderr.write(f"{percent}%")

        try:
            result = run_import(options["kind"], path, user=user, dry_run=options["dry_run"], progress=progress)
        except FileError as error:
            raise CommandError(str(error), returncode=2) from None
        for warning in result.file_warnings:
            self.stderr.write(f"warning: {warning}")
        for row_warning in result.warnings:
            self.stderr.write(f"warning: {row_warning}")
        for row_error in result.errors:
            self.stdout.write(str(row_error))
        if result.errors:
            rows = len({row_error.row for row_error in result.errors})
            raise CommandError(
                f"{len(result.errors)} 处错误（{rows} 行），未写入任何数据。",
                returncode=1,
            )
        self.stdout.write(result.summary())
