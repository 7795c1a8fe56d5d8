"""``compute_indicators --period P [--as-of YYYY-MM-DD]`` (interfaces.md)."""

import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from indicators.engine.periods import PeriodError
from indicators.models import ComputeRun
from indicators.services import compute_period


def _date(text: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"--as-of {text}: expected YYYY-MM-DD") from exc


class Command(BaseCommand):
    help = "Compute every indicator for every area and site for one period (2025 or 2025-12)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--period", required=True, help="2025 or 2025-12")
        parser.add_argument("--as-of", type=_date, default=None, help="reference date inside the period")
        parser.add_argument("--timeout", type=float, default=3600, help="seconds to wait for the run")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run = compute_period(period_key=options["period"], as_of=options["as_of"], timeout=options["timeout"])
        except PeriodError as exc:
            raise CommandError(str(exc), returncode=1) from exc
        if run.status == ComputeRun.Status.DONE:
            self.stdout.write(
                f"period {run.period.key}: computed (reference date {run.reference_date.isoformat()}, run {run.pk})"
            )
            return
        if run.status == ComputeRun.Status.FAILED:
            raise CommandError(f"period {run.period.key}: run {run.pk} failed: {run.error}", returncode=1)
        raise CommandError(f"period {run.period.key}: run {run.pk} did not finish in time ({run.status})", returncode=1)
