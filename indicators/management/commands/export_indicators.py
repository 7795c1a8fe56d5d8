"""``export_indicators --period P [--level L] [--format csv|xlsx] [--output FILE]`` (interfaces.md)."""

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from indicators.models import Level, Period
from indicators.selectors.export import export_rows, rows_to_csv, rows_to_xlsx


class Command(BaseCommand):
    help = "Write the stored indicator values of one period and level (CSV to stdout by default)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True)
        parser.add_argument("--level", default=Level.COUNTY, choices=[level.value for level in Level])
        parser.add_argument("--format", default="csv", choices=["csv", "xlsx"])
        parser.add_argument("--output", default=None, help="file to write (stdout when left out)")

    def handle(self, *args: Any, **options: Any) -> None:
        period = Period.objects.filter(key=options["period"]).first()
        if period is None:
            raise CommandError(f"period {options['period']} has no stored values; run compute_indicators first")
        rows = export_rows(period=period, level=options["level"])
        if options["format"] == "csv":
            text = rows_to_csv(rows)
            if not options["output"]:
                self.stdout.write(text, ending="")
                return
            data = text.encode("utf-8")
        else:
            data = rows_to_xlsx(rows)
        if options["output"]:
            with open(options["output"], "wb") as handle:
                handle.write(data)
        else:
            sys.stdout.flush()
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
