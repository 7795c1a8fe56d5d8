"""Reads of the 消息中心: a user's own notices only (another user's notice is a 404, never a 403)."""

from django.db.models import QuerySet

from accounts.models import User
from notices.models import Notice


def notices_of(user: User) -> QuerySet[Notice]:
    return Notice.objects.filter(user=user).order_by("-created_at", "-id")


def unread_count(user: User) -> int:
    """One indexed count on (user, read_at)."""
    return Notice.objects.filter(user=user, read_at__isnull=True).count()
