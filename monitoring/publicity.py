"""The 公示 of a village as a printable PDF (WeasyPrint, fonts as in the 通报): the same rows as the
page, from ``selectors.publicity_rows`` — name, household code, proposed category, the period and
where to object; never an ID number, phone, birth date, health or disability."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

STATIC_DIR = Path(settings.BASE_DIR) / "static"
PUBLICITY_CSS = STATIC_DIR / "css" / "publicity.css"


def publicity_filename(village_name: str, date_text: str) -> tuple[str, str]:
    return f"监测对象识别公示-{village_name}-{date_text}.pdf", f"publicity-{date_text}.pdf"


def publicity_pdf(context: dict[str, Any]) -> bytes:
    # Imported here: WeasyPrint loads Pango and its fonts on import (about a second); only a PDF needs it.
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fonts = FontConfiguration()
    stylesheet = CSS(filename=str(PUBLICITY_CSS), font_config=fonts)
    document = HTML(string=render_to_string("monitoring/publicity_pdf.html", context), base_url=str(STATIC_DIR))
    return document.write_pdf(stylesheets=[stylesheet], font_config=fonts)
