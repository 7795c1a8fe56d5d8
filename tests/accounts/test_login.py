"""Login hardening (access.md, Login): lockout, absolute lifetime, CSP, second factor."""

import time

import pytest
from django.test import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.middleware import SESSION_KEY
from accounts.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return UserFactory.create(username="zhen", password="correct-horse-9", role=Role.TOWNSHIP_STAFF, area=None)


def login(client, username, password, **extra):
    return client.post("/login/", {"username": username, "password": password, **extra}, REMOTE_ADDR="10.0.0.1")


def test_login_works_and_lands_on_home(client, user):
    response = login(client, "zhen", "correct-horse-9")
    assert response.status_code == 302
    assert response["Location"] == "/"


@override_settings(AXES_FAILURE_LIMIT=3)
def test_repeated_failures_lock_that_username_from_that_address(client, user):
    for _ in range(3):
        assert login(client, "zhen", "wrong").status_code in (200, 429)
    locked = login(client, "zhen", "correct-horse-9")
    assert locked.status_code == 429
    assert "锁定" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address is not locked out by someone else's failures.
    other = client.post("/login/", {"username": "zhen", "password": "correct-horse-9"}, REMOTE_ADDR="10.0.0.2")
    assert other.status_code == 302


def test_session_ends_after_its_absolute_lifetime(client, user, settings):
    client.force_login(user)
    assert client.get("/").status_code == 200
    session = client.session
    session[SESSION_KEY] = time.time() - settings.SESSION_ABSOLUTE_LIFETIME - 1
    session.save()
    response = client.get("/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert client.get("/").status_code == 302


def test_pages_carry_a_nonce_based_csp_without_unsafe_inline(client):
    policy = client.get("/login/")["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "object-src 'none'" in policy


def test_admin_with_a_totp_device_needs_the_token(client):
    admin = UserFactory.create(username="admin", password="correct-horse-9", role=Role.CITY_ADMIN, area=None)
    device = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    assert login(client, "admin", "correct-horse-9").status_code == 200
    assert "_auth_user_id" not in client.session
    token = str(totp(device.bin_key, device.step, device.t0, device.digits, device.drift)).zfill(device.digits)
    response = login(client, "admin", "correct-horse-9", otp_device=device.persistent_id, otp_token=token)
    assert response.status_code == 302
