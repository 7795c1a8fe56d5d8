"""The access matrix for API tokens (issue 17, finding 5; acceptance 4): for every role and every API
address of ``accounts/url_policy.py`` that answers GET, a token sees exactly what the same user's
session sees (status and body), inside and outside the user's area; an expired or revoked token, or
one of a user whose password changed, sees nothing (401); and a city administrator with a TOTP device
obtains a token only with the code, and that token sees what the session sees."""

from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts.models import ApiToken, User
from accounts.tokens import token_create
from accounts.url_policy import CITY, LOGIN, PUBLISHED, ROLES, Rule
from tests.accounts.test_access_matrix import _is_city, _scoped_kinds, _value
from tests.accounts.test_url_policy import classified
from tests.factories import PASSWORD
from tests.world import ROLE_KEYS, World, build_world

READ_ACCESS = (LOGIN, CITY, ROLES, PUBLISHED)


def _api_reads() -> list[tuple[str, Rule]]:
    return [
        (name, rule)
        for name, _route, rule in classified()
        if name and rule.json and rule.get is not None and rule.access in READ_ACCESS
    ]


API_READS = _api_reads()


def _cases() -> list[Any]:
    params = []
    for name, rule in API_READS:
        for role in ROLE_KEYS:
            for case in ("inside", "outside") if _scoped_kinds(rule) else ("inside",):
                params.append(pytest.param(name, role, case, id=f"{name}-{role}-{case}"))
    return params


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # throttle counters
    yield
    cache.clear()


def _fresh_user(world: World, role: str) -> User:
    """The role's user as stored (the world's objects are shared by every test of the module)."""
    return User.objects.get(pk=world.user(role).pk)


def _url(world: World, name: str, rule: Rule, role: str, case: str) -> str:
    user = world.user(role)
    if _is_city(role) and case == "outside":
        case = "missing"  # the whole city is inside: only a missing record is outside
    kwargs = {keyword: _value(world, kind, case, user) for keyword, kind in rule.objects.items()}
    return reverse(name, kwargs=kwargs) if kwargs else reverse(name)


def _token_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _body(response: Any) -> Any:
    if response.get("Content-Type", "").startswith("application/json"):
        return response.json()
    return response.content


# issue 17 finding 5
@pytest.mark.django_db
@pytest.mark.parametrize(("name", "role", "case"), _cases())
def test_a_token_sees_exactly_what_its_session_sees(world: World, name: str, role: str, case: str) -> None:
    rule = dict(API_READS)[name]
    user = _fresh_user(world, role)
    key = token_create(user=user)[1]
    url = _url(world, name, rule, role, case)
    session = Client()
    session.force_login(user)

    by_token = _token_client(key).get(url)  # first: the session then lists the token as already used
    by_session = session.get(url)

    assert by_token.status_code == by_session.status_code, (url, by_token.content[:300], by_session.content[:300])
    assert _body(by_token) == _body(by_session), url


# issue 17 finding 5
@pytest.mark.django_db
@pytest.mark.parametrize("state", ["expired", "revoked", "password_changed", "deactivated"])
@pytest.mark.parametrize("role", ROLE_KEYS)
def test_a_dead_token_sees_nothing_anywhere(world: World, role: str, state: str) -> None:
    user = _fresh_user(world, role)
    token, key = token_create(user=user)
    client = _token_client(key)
    assert client.get(reverse("area-list")).status_code == 200
    if state == "expired":
        ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now())
    elif state == "revoked":
        assert client.delete(reverse("api-tokens-detail", kwargs={"pk": token.pk})).status_code == 204
    elif state == "password_changed":
        user.set_password(PASSWORD)  # even the same password, set again, ends every token
        user.save()
    else:
        type(user).objects.filter(pk=user.pk).update(is_active=False)

    statuses = {name: client.get(_url(world, name, rule, role, "inside")).status_code for name, rule in API_READS}

    assert set(statuses.values()) == {401}, statuses


# issue 17 finding 5
@pytest.mark.django_db
def test_a_totp_administrator_gets_a_token_only_with_the_code_and_it_sees_what_the_session_sees(world: World):
    admin = _fresh_user(world, "admin")
    device = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    anonymous = APIClient()

    without = anonymous.post(reverse("api-token"), {"username": admin.username, "password": PASSWORD}, format="json")
    assert without.status_code == 400
    assert "otp_token" in without.json()
    assert not ApiToken.objects.filter(user=admin).exists()

    code = str(totp(device.bin_key, device.step, device.t0, device.digits, device.drift)).zfill(device.digits)
    granted = anonymous.post(
        reverse("api-token"), {"username": admin.username, "password": PASSWORD, "otp_token": code}, format="json"
    )
    assert granted.status_code == 200
    token_client = _token_client(granted.json()["token"])
    session = Client()
    session.force_login(admin)
    for name in ("person-list", "household-list", "area-list"):
        by_token, by_session = token_client.get(reverse(name)), session.get(reverse(name))
        assert by_token.status_code == by_session.status_code == 200
        assert by_token.json() == by_session.json()
    persons = token_client.get(reverse("person-list")).json()["results"]
    assert persons
    assert all("*" in row["id_number"] for row in persons)
