"""API tokens (issue 17, finding 5): created, checked and revoked here only.

A key is 40 random hex digits, shown once; the database keeps its SHA-256 (a key this random needs no
salt or slow hash: nobody can guess one from its digest) and its first 8 characters, so the owner can
tell tokens apart. A token works until it expires (``API_TOKEN_TTL_DAYS``), is revoked, or its owner's
password changes (``User.save``).
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.access import can_write, scope
from accounts.models import ApiToken, User

PREFIX_LENGTH = 8
# ``last_used`` is written at most this often per token: an API client making many calls a minute
# would otherwise cost an UPDATE on every request.
LAST_USED_GRANULARITY = timedelta(minutes=1)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def token_create(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token for ``user`` and its key (the only time the key exists outside the client). Beyond
    ``API_TOKEN_MAX_PER_USER`` live tokens the oldest are revoked, so a script that asks for a token on
    every run does not pile up working keys."""
    key = secrets.token_hex(20)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        name=(name.strip() or _("API 令牌"))[:100],
        key_hash=key_digest(key),
        prefix=key[:PREFIX_LENGTH],
        expires=now + timedelta(days=settings.API_TOKEN_TTL_DAYS),
    )
    surplus = list(tokens_live(user).values_list("pk", flat=True)[settings.API_TOKEN_MAX_PER_USER :])
    if surplus:
        tokens_revoke(ApiToken.objects.filter(pk__in=surplus))
    return token, key


def token_for_key(key: str) -> ApiToken | None:
    """The live token with this key, its user and the user's area loaded (every answer is scoped by
    the area); None for an unknown, expired or revoked key. Notes the use (``last_used``)."""
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user", "user__area")
        .filter(key_hash=key_digest(key), revoked__isnull=True, expires__gt=now)
        .first()
    )
    if token is not None and (token.last_used is None or now - token.last_used >= LAST_USED_GRANULARITY):
        ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        token.last_used = now
    return token


def tokens_live(user: User) -> QuerySet[ApiToken]:
    """The user's tokens that still work, newest first."""
    return ApiToken.objects.filter(user=user, revoked__isnull=True, expires__gt=timezone.now())


def tokens_revoke(tokens: QuerySet[ApiToken]) -> int:
    """Revoke the live ones of ``tokens``; the number revoked."""
    return ApiToken.objects.filter(pk__in=tokens.values("pk")).revoke()


def tokens_revoke_all(user: User) -> int:
    """Revoke every token of ``user`` (a new password: ``User.save``)."""
    return tokens_revoke(ApiToken.objects.filter(user=user))


def tokens_manageable(actor: User) -> QuerySet[ApiToken]:
    """The tokens ``actor`` may list and revoke: their own, plus, for user administrators (the city
    administrator, superusers), those of every user inside their area."""
    tokens = ApiToken.objects.select_related("user")
    if actor.is_superuser:
        return tokens
    if can_write(actor, "users"):
        return tokens.filter(user__in=scope(User.objects.all(), actor).values("pk")) | tokens.filter(user=actor)
    return tokens.filter(user=actor)


def token_revoke(*, actor: User, pk: int) -> ApiToken:
    """Revoke one token ``actor`` may manage (``ApiToken.DoesNotExist`` otherwise: the same answer as
    for a token that does not exist). Revoking twice keeps the first time."""
    token = tokens_manageable(actor).get(pk=pk)
    if token.revoked is None:
        tokens_revoke(ApiToken.objects.filter(pk=token.pk))
        token.refresh_from_db(fields=["revoked"])
    return token
