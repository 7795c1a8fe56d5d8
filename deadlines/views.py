"""The deadline table's download (issue 21): the same table for every logged-in user."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.utils import timezone

from accounts.types import AuthedHttpRequest
from core.reports import xlsx_response
from deadlines import export


@login_required
def export_view(request: AuthedHttpRequest) -> HttpResponse:
    """办理时限 as .xlsx: each step's working days and the working-day overrides."""
    today = timezone.localdate()
    return xlsx_response(export.workbook_sheets(today), *export.filename(today))
