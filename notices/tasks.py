"""The nightly digest of the 消息中心 (beat: CELERY_BEAT_SCHEDULE, queue "default")."""

from celery import shared_task

from notices import services


@shared_task(name="notices.tasks.digest_task", time_limit=1800)
def digest_task() -> int:
    """Writes each active user one notice of what turned 临期/逾期 in their area; returns how many."""
    return services.write_digest().notices
