"""``assess --year Y [--publish]`` (interfaces.md): the annual assessment of assessment.md."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from indicators.assessment.scoring import (
    AssessmentError,
    assessment_compute,
    assessment_is_published,
    assessment_publish,
    assessment_result_for_year,
)


class Command(BaseCommand):
    help = "Compute the annual assessment of year Y from period Y's values (computing them first if none are stored)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument(
            "--publish", action="store_true", help="also publish: close period Y and freeze the results"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        year = options["year"]
        try:
            if assessment_is_published(year):
                self.stdout.write(f"{year}: published already; the frozen results are shown")
            else:
                assessment_compute(year=year)
                if options["publish"]:
                    assessment_publish(year=year)
        except AssessmentError as exc:
            raise CommandError(str(exc), returncode=1) from exc
        data = assessment_result_for_year(year)
        if data is None:
            raise CommandError(f"{year}: no assessment", returncode=1)
        state = "published" if data["published"] else "not published (recomputable)"
        self.stdout.write(f"{year} annual assessment, reference date {data['reference_date']}, {state}")
        dimension_header = "  ".join(f"{d['name']}({d['points']})" for d in data["dimensions"])
        for title, rows in (("counties", data["counties"]), ("departments", data["departments"])):
            self.stdout.write("")
            self.stdout.write(f"{title}: rank  unit  base  {dimension_header}  bonus  total  grade  total-exact")
            for row in rows:
                # An unscored unit's commendation points are shown in brackets, for information.
                bonus = row["bonus"] if row["scored"] or row["bonus"] == "0" else f"({row['bonus']})"
                dimensions = "  ".join(d["display"] or "—" for d in row["dimensions"])
                self.stdout.write(
                    "  ".join(
                        [
                            str(row["rank"] or "—"),
                            row["label"],
                            row["base"] or "—",
                            dimensions,
                            bonus,
                            row["total"] or "—",
                            row["grade"] or "—",
                            row["total_exact"] or "—",
                        ]
                    )
                )
