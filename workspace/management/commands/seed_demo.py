"""``manage.py seed_demo [--households N] [--seed S]`` (interfaces.md).

Fills an **empty** database with a synthetic Loudi and computes the previous year and the running
month and year. A database that already holds areas is refused (exit 1) rather than reset: demo data
must never be mixed into, or wipe, real records. Start again with a fresh database instead.
"""

import datetime
import time
from typing import Any

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from areas.models import Area
from households.models import Household
from workspace import demo


class Command(BaseCommand):
    help = "生成娄底市演示数据（空数据库），并计算上一年度、本月和本年度的指标。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--households", type=int, default=demo.DEFAULT_HOUSEHOLDS, help="搬迁户数（默认 19200）")
        parser.add_argument("--seed", type=int, default=1, help="随机种子：相同种子生成相同内容")
        parser.add_argument("--password", default=demo.DEMO_PASSWORD, help="演示账号的密码")
        parser.add_argument("--today", type=datetime.date.fromisoformat, help="参考日期 YYYY-MM-DD（默认今天）")
        parser.add_argument("--no-compute", action="store_true", help="只生成数据，不计算指标")

    def handle(self, *args: Any, **options: Any) -> None:
        households = options["households"]
        if households < 100:
            raise CommandError("--households 至少为 100。")
        if Area.objects.exists() or Household.objects.exists():
            raise CommandError(
                "数据库中已有区划或搬迁户数据，seed_demo 只向空数据库写入演示数据，不会覆盖或清除现有数据。"
                "请改用新的数据库（例如删除 db.sqlite3 后重新执行 migrate，或设置另一个 DATABASE_URL）。"
            )
        today = options["today"] or timezone.localdate()
        started = time.monotonic()
        builder = demo.DemoBuilder(households=households, seed=options["seed"], today=today, log=self.stdout.write)
        counts = builder.run()
        demo.write_city_inputs(year=today.year, seed=options["seed"])
        users = demo.create_demo_users(password=options["password"])
        self.stdout.write(
            f"演示数据已生成（{time.monotonic() - started:.1f} 秒）：{counts['sites']:,} 个安置点，"
            f"{counts['households']:,} 户（已注销 {counts['cancelled_households']:,} 户），"
            f"{counts['persons']:,} 人（正常 {counts['active_persons']:,} 人）。"
        )
        if not options["no_compute"]:
            self._compute(today)
        self.stdout.write(f"演示账号（密码均为 {options['password']}）：")
        for username, label, area in users:
            self.stdout.write(f"  {username:<14} {label}，{area}")

    def _compute(self, today: datetime.date) -> None:
        if "compute_indicators" not in get_commands():
            self.stdout.write("注意：compute_indicators 命令尚不存在，已跳过指标计算。")
            return
        for period in (str(today.year - 1), f"{today:%Y-%m}", str(today.year)):
            started = time.monotonic()
            call_command("compute_indicators", period=period, stdout=self.stdout, stderr=self.stderr)
            self.stdout.write(f"已计算 {period} 期指标（{time.monotonic() - started:.1f} 秒）")
