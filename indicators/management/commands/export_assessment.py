"""``export_assessment --year Y --format xlsx|pdf --output FILE`` (interfaces.md): the 年度考核通报."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from indicators.assessment.report import assessment_pdf, assessment_xlsx
from indicators.assessment.scoring import assessment_result_for_year


class Command(BaseCommand):
    help = "Write the annual assessment report (年度考核通报) of year Y as .xlsx or .pdf from the stored results."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument("--format", choices=["xlsx", "pdf"], required=True)
        parser.add_argument("--output", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        year = options["year"]
        data = assessment_result_for_year(year)
        if data is None:
            raise CommandError(f"{year}: not assessed yet (run assess --year {year})", returncode=1)
        content = assessment_pdf(data) if options["format"] == "pdf" else assessment_xlsx(data)
        Path(options["output"]).write_bytes(content)
        self.stdout.write(f"{year}: {options['format']} written to {options['output']} ({len(content)} bytes)")
