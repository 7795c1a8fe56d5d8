"""Today's date for the identification procedure, in one place so that a test (or the browser journey
on the live server) can fix the clock by patching ``monitoring.clock.today``."""

import datetime

from django.utils import timezone


def today() -> datetime.date:
    return timezone.localdate()
