"""API tokens (issue 17, finding 5): the second factor at the token endpoint, hashed keys, expiry,
revocation by a new password, by the owner and by the administrator; the password rule (finding 17)
and the per-address login limit (finding 22)."""

import datetime
import hashlib
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client, override_settings
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts import services
from accounts.models import ApiToken, Role, User
from accounts.tokens import token_create
from areas.choices import AreaLevel
from tests.factories import AreaFactory, UserFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/"
TOKEN_URL = f"{API}auth/token/"
PASSWORD = "pw-Loudi-2026"


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # the token endpoint's throttle counters
    yield
    cache.clear()


@pytest.fixture
def city():
    return AreaFactory.create(code="431300", name="娄底市", level=AreaLevel.CITY)


@pytest.fixture
def county(city):
    return AreaFactory.create(code="431302", name="娄星区", level=AreaLevel.COUNTY, parent=city, county_code="431302")


@pytest.fixture
def admin(city):
    return UserFactory.create(username="shi", password=PASSWORD, role=Role.CITY_ADMIN, area=city)


@pytest.fixture
def official(county):
    return UserFactory.create(username="xian", password=PASSWORD, role=Role.COUNTY_OFFICIAL, area=county)


@pytest.fixture
def device(admin):
    return TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    return str(totp(device.bin_key, device.step, device.t0, device.digits, device.drift)).zfill(device.digits)


def obtain(username: str, password: str = PASSWORD, address: str = "127.0.0.1", **extra: str):  # type: ignore[no-untyped-def]
    return APIClient().post(
        TOKEN_URL, {"username": username, "password": password, **extra}, format="json", REMOTE_ADDR=address
    )


def with_token(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


# --- the second factor ---------------------------------------------------------------------------


# issue 17 finding 5
def test_totp_user_without_a_code_gets_no_token(admin, device):
    response = obtain("shi")

    assert response.status_code == 400
    message = response.json()["otp_token"][0]
    assert "动态口令" in message
    assert "otp_token" in message
    assert not ApiToken.objects.exists()


# issue 17 finding 5
def test_totp_user_with_a_wrong_code_gets_no_token_and_it_counts_as_a_failed_login(admin, device):
    wrong = f"{(int(current_code(device)) + 1) % 1_000_000:06d}"

    response = obtain("shi", otp_token=wrong)

    assert response.status_code == 400
    assert "动态口令不正确" in response.json()["otp_token"][0]
    assert not ApiToken.objects.exists()
    assert AccessAttempt.objects.get(username="shi").failures_since_start == 1


# issue 17 finding 5
def test_totp_user_with_the_current_code_gets_a_working_token(admin, device):
    response = obtain("shi", otp_token=current_code(device))

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires"}
    assert response["Cache-Control"] == "no-store"
    assert with_token(body["token"]).get(f"{API}areas/").status_code == 200
    # The same code cannot be replayed for a second token.
    assert obtain("shi", otp_token=current_code(device)).status_code == 400


# issue 17 finding 5
def test_an_unconfirmed_device_does_not_ask_for_a_code(admin):
    TOTPDevice.objects.create(user=admin, name="half-bound", confirmed=False)

    assert obtain("shi").status_code == 200


# --- storage, expiry ------------------------------------------------------------------------------


# issue 17 finding 5
def test_only_a_digest_of_the_key_is_stored(official):
    key = obtain("xian").json()["token"]

    token = ApiToken.objects.get(user=official)
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.prefix == key[:8]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        assert not any(key in str(value) for row in cursor.fetchall() for value in row)


# issue 17 finding 5
@override_settings(API_TOKEN_TTL_DAYS=2)
def test_token_expires_after_the_configured_days(official):
    before = timezone.now()
    response = obtain("xian")
    key = response.json()["token"]
    token = ApiToken.objects.get(user=official)

    assert before + datetime.timedelta(days=2) <= token.expires <= timezone.now() + datetime.timedelta(days=2)
    assert datetime.datetime.fromisoformat(response.json()["expires"]) == token.expires
    assert with_token(key).get(f"{API}areas/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - datetime.timedelta(seconds=1))

    expired = with_token(key).get(f"{API}areas/")
    assert expired.status_code == 401
    assert "已过期" in expired.json()["detail"]


# issue 17 finding 5
def test_default_lifetime_is_thirty_days(official):
    token, _key = token_create(user=official)
    assert (token.expires - token.created).days in (29, 30)
    assert token.expires - token.created > datetime.timedelta(days=29, hours=23)


# issue 17 finding 5
@override_settings(API_TOKEN_MAX_PER_USER=2)
def test_tokens_beyond_the_cap_revoke_the_oldest(official):
    first, first_key = token_create(user=official)
    token_create(user=official)
    token_create(user=official)

    first.refresh_from_db()
    assert first.revoked is not None
    assert with_token(first_key).get(f"{API}areas/").status_code == 401
    assert ApiToken.objects.filter(user=official, revoked__isnull=True).count() == 2


# issue 17 finding 5
def test_each_use_notes_last_used_at_most_once_a_minute(official):
    token, key = token_create(user=official)
    assert token.last_used is None
    with_token(key).get(f"{API}areas/")
    token.refresh_from_db()
    first_use = token.last_used
    assert first_use is not None
    with_token(key).get(f"{API}areas/")
    token.refresh_from_db()
    assert token.last_used == first_use


# --- revocation -----------------------------------------------------------------------------------


# issue 17 finding 5
def test_a_new_password_revokes_every_token_of_the_user(official, admin):
    keys = [token_create(user=official)[1] for _ in range(2)]
    other_key = token_create(user=admin)[1]

    official.set_password("another-Loudi-2027")
    official.save()

    for key in keys:
        answer = with_token(key).get(f"{API}areas/")
        assert answer.status_code == 401
        assert "撤销" in answer.json()["detail"]
    assert with_token(other_key).get(f"{API}areas/").status_code == 200


# issue 17 finding 5
def test_a_password_set_on_the_user_page_revokes_the_tokens(official, admin):
    key = token_create(user=official)[1]
    client = Client()
    client.force_login(admin)

    response = client.post(
        f"/users/{official.pk}/",
        {
            "full_name": "县干部",
            "role": "county_official",
            "area_code": "431302",
            "password": "Xiangtan-river-88",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    assert with_token(key).get(f"{API}areas/").status_code == 401


# issue 17 finding 5
def test_saving_a_user_without_a_new_password_keeps_the_tokens(official):
    key = token_create(user=official)[1]
    official.first_name = "改名"
    official.save()
    assert with_token(key).get(f"{API}areas/").status_code == 200


# issue 17 finding 5
def test_a_deactivated_account_loses_its_tokens(official, admin):
    key = token_create(user=official)[1]
    services.user_save(
        actor=admin,
        user=official,
        data={"full_name": "", "role": "county_official", "area_code": "431302", "is_active": False},
    )
    official.is_active = True
    official.save()

    assert with_token(key).get(f"{API}areas/").status_code == 401


# issue 17 finding 5
def test_owner_lists_own_tokens_and_revokes_one_through_the_api(official, admin):
    keep, keep_key = token_create(user=official, name="导出脚本")
    drop, drop_key = token_create(user=official, name="旧脚本")
    token_create(user=admin, name="别人的令牌")
    client = with_token(keep_key)

    listed = client.get(f"{API}auth/tokens/").json()["results"]
    assert [row["name"] for row in listed] == ["旧脚本", "导出脚本"]
    assert all(set(row) >= {"prefix", "expires", "last_used", "status"} for row in listed)
    assert not any(keep_key in str(row) or drop_key in str(row) or keep.key_hash in str(row) for row in listed)

    assert client.delete(f"{API}auth/tokens/{drop.pk}/").status_code == 204
    assert with_token(drop_key).get(f"{API}areas/").status_code == 401
    assert client.get(f"{API}auth/tokens/{drop.pk}/").json()["status"] == "已撤销"
    assert client.get(f"{API}areas/").status_code == 200


# issue 17 finding 5
def test_owner_cannot_see_or_revoke_someone_elses_token(official, admin):
    key = token_create(user=official)[1]
    foreign, foreign_key = token_create(user=admin)
    client = with_token(key)

    assert client.get(f"{API}auth/tokens/{foreign.pk}/").status_code == 404
    assert client.delete(f"{API}auth/tokens/{foreign.pk}/").status_code == 404
    assert with_token(foreign_key).get(f"{API}areas/").status_code == 200


# issue 17 finding 5
def test_owner_page_creates_a_token_shows_its_key_once_and_revokes_it(official):
    client = Client()
    client.force_login(official)

    created = client.post("/account/tokens/", {"name": "月度导出"})
    assert created.status_code == 200
    assert created["Cache-Control"] == "no-store"
    key = created.context["new_key"]
    assert key in created.content.decode()
    assert with_token(key).get(f"{API}areas/").status_code == 200
    listing = client.get("/account/tokens/").content.decode()
    assert key not in listing
    assert key[:8] in listing
    assert "月度导出" in listing

    token = ApiToken.objects.get(user=official)
    revoked = client.post(f"/account/tokens/{token.pk}/revoke/", {"next": "/account/tokens/"})
    assert revoked.status_code == 302
    assert revoked["Location"] == "/account/tokens/"
    assert with_token(key).get(f"{API}areas/").status_code == 401
    assert "已撤销" in client.get("/account/tokens/").content.decode()


# issue 17 finding 5
def test_city_admin_lists_and_revokes_a_users_token(official, admin):
    token, key = token_create(user=official, name="县里的脚本")
    client = Client()
    client.force_login(admin)

    page = client.get(f"/users/{official.pk}/tokens/")
    assert page.status_code == 200
    assert "县里的脚本" in page.content.decode()
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 302

    assert with_token(key).get(f"{API}areas/").status_code == 401


# issue 17 finding 5
def test_county_official_may_not_manage_other_users_tokens(official, county):
    village_user = UserFactory.create(username="cun", password=PASSWORD, role=Role.VILLAGE_STAFF, area=county)
    token, key = token_create(user=village_user)
    client = Client()
    client.force_login(official)

    assert client.get(f"/users/{village_user.pk}/tokens/").status_code == 403
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert with_token(key).get(f"{API}areas/").status_code == 200


# issue 17 finding 5
def test_django_admin_action_revokes_selected_tokens(official, city):
    superuser = User.objects.create_superuser("root", password=PASSWORD, role=Role.CITY_ADMIN, area=city)
    token, key = token_create(user=official)
    client = Client()
    client.force_login(superuser)

    listing = client.get("/admin/accounts/apitoken/")
    assert listing.status_code == 200
    assert token.prefix in listing.content.decode()
    response = client.post(
        "/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )

    assert response.status_code == 200
    assert with_token(key).get(f"{API}areas/").status_code == 401


# issue 17 finding 5
def test_unknown_and_malformed_tokens_answer_401(official):
    assert with_token("0" * 40).get(f"{API}areas/").status_code == 401
    assert with_token("").get(f"{API}areas/").status_code == 401


# issue 17 finding 5
def test_the_migration_drops_the_old_plain_token_table(official):
    from importlib import import_module

    migration = import_module("accounts.migrations.0004_api_tokens")

    class Editor:  # what the migration uses of a schema editor (SQLite's cannot open inside a test)
        def __init__(self) -> None:
            self.connection = connection
            self.quote_name = connection.ops.quote_name

        def execute(self, sql: str, params: list[Any] | None = None) -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)

    editor = Editor()
    editor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, user_id bigint)")
    editor.execute("INSERT INTO authtoken_token VALUES (%s, %s)", ["a" * 40, official.pk])

    migration.drop_plain_tokens(None, editor)

    with connection.cursor() as cursor:
        assert "authtoken_token" not in connection.introspection.table_names(cursor)


# --- finding 17: the password rule ----------------------------------------------------------------


# issue 17 finding 17
def test_new_user_page_refuses_a_password_equal_to_the_username(admin, county):
    client = Client()
    client.force_login(admin)

    response = client.post(
        "/users/new/",
        {
            "username": "wangxiaoming88",
            "full_name": "王小明",
            "role": "county_official",
            "area_code": "431302",
            "password": "wangxiaoming88",
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["password"]
    assert not User.objects.filter(username="wangxiaoming88").exists()


# issue 17 finding 17
def test_edit_page_refuses_a_password_equal_to_the_username(admin, county):
    edited = UserFactory.create(username="zhangweiguo1", password=PASSWORD, role=Role.COUNTY_OFFICIAL, area=county)
    client = Client()
    client.force_login(admin)

    response = client.post(
        f"/users/{edited.pk}/",
        {
            "full_name": "县干部",
            "role": "county_official",
            "area_code": "431302",
            "password": "zhangweiguo1",
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["password"]
    edited.refresh_from_db()
    assert edited.check_password(PASSWORD)


# issue 17 finding 17
def test_user_service_refuses_a_password_equal_to_the_username_whoever_calls(admin, county):
    with pytest.raises(ValidationError) as refused:
        services.user_save(
            actor=admin,
            data={
                "username": "lisiguang2026",
                "full_name": "李四光",
                "role": "county_official",
                "area_code": "431302",
                "password": "lisiguang2026",
            },
        )
    assert "password" in refused.value.message_dict
    assert not User.objects.filter(username="lisiguang2026").exists()


# --- finding 22: per-address login limit ---------------------------------------------------------


def login(client: Client, username: str, password: str, address: str):  # type: ignore[no-untyped-def]
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


# issue 17 finding 22
@override_settings(AXES_FAILURE_LIMIT=3, LOGIN_ADDRESS_FAILURE_LIMIT=6)
def test_many_usernames_from_one_address_lock_that_address(official):
    client = Client()
    for n in range(6):  # one failure each: no username reaches its own limit
        assert login(client, f"guess{n}", "wrong", "10.9.9.9").status_code == 200

    refused = login(client, "xian", PASSWORD, "10.9.9.9")
    assert refused.status_code == 200
    assert "此地址登录失败次数过多" in refused.content.decode()
    assert "_auth_user_id" not in client.session
    # Another address is not affected.
    assert login(Client(), "xian", PASSWORD, "10.9.9.10").status_code == 302


# issue 17 finding 22
@override_settings(AXES_FAILURE_LIMIT=3, LOGIN_ADDRESS_FAILURE_LIMIT=6)
def test_the_token_endpoint_honours_the_address_limit(official):
    for n in range(6):
        obtain(f"guess{n}", "wrong", address="10.9.9.9")
    cache.clear()  # the endpoint's own rate throttle is not what is tested here

    refused = obtain("xian", address="10.9.9.9")

    assert refused.status_code == 429
    assert "此地址登录失败次数过多" in refused.json()["detail"]
    assert not ApiToken.objects.exists()


# issue 17 finding 22
def test_the_address_limit_is_above_the_per_user_limit(official, settings):
    assert settings.LOGIN_ADDRESS_FAILURE_LIMIT > settings.AXES_FAILURE_LIMIT
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):  # one colleague locks their own username ...
        login(client, "colleague", "wrong", "10.8.8.8")

    assert login(Client(), "xian", PASSWORD, "10.8.8.8").status_code == 302  # ... not the office


# issue 17 finding 22
@override_settings(AXES_FAILURE_LIMIT=3, LOGIN_ADDRESS_FAILURE_LIMIT=6)
def test_address_failures_age_out_with_the_cool_off(official):
    for n in range(6):
        login(Client(), f"guess{n}", "wrong", "10.9.9.9")
    AccessAttempt.objects.update(attempt_time=timezone.now() - datetime.timedelta(hours=1))

    assert login(Client(), "xian", PASSWORD, "10.9.9.9").status_code == 302


# issue 17 findings 5 and 17
def test_the_django_admin_password_change_checks_the_username_and_revokes_tokens(county, city):
    edited = UserFactory.create(username="zhaoliangcai9", password=PASSWORD, role=Role.COUNTY_OFFICIAL, area=county)
    superuser = User.objects.create_superuser("root", password=PASSWORD, role=Role.CITY_ADMIN, area=city)
    key = token_create(user=edited)[1]
    client = Client()
    client.force_login(superuser)
    url = f"/admin/accounts/user/{edited.pk}/password/"

    refused = client.post(url, {"password1": "zhaoliangcai9", "password2": "zhaoliangcai9", "usable_password": "true"})
    assert refused.status_code == 200
    assert refused.context["form"].errors["password2"]
    assert with_token(key).get(f"{API}areas/").status_code == 200

    new = "Lianyuan-hills-77"
    changed = client.post(url, {"password1": new, "password2": new, "usable_password": "true"})
    assert changed.status_code == 302
    assert with_token(key).get(f"{API}areas/").status_code == 401


# issue 17 finding 22
@override_settings(AXES_FAILURE_LIMIT=3, LOGIN_ADDRESS_FAILURE_LIMIT=6)
def test_the_admin_login_honours_the_address_limit(city):
    User.objects.create_superuser("root", password=PASSWORD, role=Role.CITY_ADMIN, area=city)
    for n in range(6):
        login(Client(), f"guess{n}", "wrong", "10.9.9.9")
    client = Client()

    client.post("/admin/login/", {"username": "root", "password": PASSWORD}, REMOTE_ADDR="10.9.9.9")

    assert "_auth_user_id" not in client.session
