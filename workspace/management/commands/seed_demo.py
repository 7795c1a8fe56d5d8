"""``manage.py seed_demo [--households N] [--seed S]`` (interfaces.md).

Fills an **empty** database with a synthetic Loudi with a history: the records are written as the
previous year left them, that year's assessment is computed and published (``assess --year Y-1
--publish``), then the records are brought to the running year and its month and year are computed.
The running year's assessment is left for an administrator to compute as a draft (README).

A database that already holds areas is refused (exit 1) rather than reset: demo data must never be
mixed into, or wipe, real records. Start again with a fresh database instead.
"""

import datetime
import time
from io import StringIO
from typing import Any

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from areas.models import Area
from households.models import Household
from workspace import demo


class Command(BaseCommand):
    help = "生成娄底市演示数据（空数据库）：计算并发布上一年度考核，再计算本月和本年度的指标。"

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
        compute = not options["no_compute"] and "compute_indicators" in get_commands()
        if compute:
            self._publish_previous_year(today.year - 1)
        elif not options["no_compute"]:
            self.stdout.write("注意：compute_indicators 命令尚不存在，已跳过指标计算。")
        started = time.monotonic()
        changed = demo.advance_to_running_year(seed=options["seed"], today=today)
        self.stdout.write(
            f"已推进到 {today.year} 年：{changed:,} 人的就业核查或培训更新（{time.monotonic() - started:.1f} 秒）"
        )
        if compute:
            self._compute(today)
        self.stdout.write(f"演示账号（密码均为 {options['password']}）：")
        for username, label, area in users:
            self.stdout.write(f"  {username:<14} {label}，{area}")

    def _publish_previous_year(self, year: int) -> None:
        """Period ``year`` computed from the records as that year left them, scored and published: every
        role then finds a published 年度考核通报 (the ``assess`` command's own output is not shown)."""
        started = time.monotonic()
        call_command("assess", year=year, publish=True, stdout=StringIO(), stderr=self.stderr)
        self.stdout.write(f"已计算并发布 {year} 年度考核（{time.monotonic() - started:.1f} 秒）")

    def _compute(self, today: datetime.date) -> None:
        for period in (f"{today:%Y-%m}", str(today.year)):
            started = time.monotonic()
            call_command("compute_indicators", period=period, stdout=self.stdout, stderr=self.stderr)
            self.stdout.write(f"已计算 {period} 期指标（{time.monotonic() - started:.1f} 秒）")
