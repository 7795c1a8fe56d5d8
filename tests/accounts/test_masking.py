"""Masking by role (access.md, Personal data): in a page, an API answer and an export, masked roles
see ``431302********1234``, ``138****5678`` and the age — never the birth date or the full number —
while village and township staff see them in full; unmasking one record needs the permission and is
logged (who, whose, when, from where)."""

import io
import zipfile

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import transaction
from django.test import Client

from accounts.models import PersonalDataAccess
from accounts.personal_data import mask_id_number, mask_phone
from tests.world import ID_A, PHONE_A, ROLE_KEYS, YEAR, World, build_world

FULL_ROLES = ("village", "township")
BIRTH = "1980-01-01"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _client(world: World, role: str) -> Client:
    client = Client()
    client.force_login(world.user(role))
    return client


def _xlsx_text(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as book:
        return "".join(book.read(name).decode() for name in book.namelist() if name.endswith(".xml"))


def _assert_shown(text: str, role: str, *, phone: bool = False, birth: bool = True) -> None:
    if role in FULL_ROLES:
        assert ID_A in text
        if phone:
            assert PHONE_A in text
    else:
        assert ID_A not in text
        assert ID_A[6:14] not in text
        assert mask_id_number(ID_A) in text
        if birth:
            assert BIRTH not in text
            assert "1980年1月1日" not in text
        if phone:
            assert PHONE_A not in text
            assert mask_phone(PHONE_A) in text


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLE_KEYS)
def test_household_file_page(world, role):
    response = _client(world, role).get(f"/households/{world.a.household.code}/")
    assert response.status_code == 200
    _assert_shown(response.content.decode(), role, phone=True)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLE_KEYS)
def test_api_persons(world, role):
    response = _client(world, role).get(f"/api/v1/persons/?household={world.a.household.code}")
    assert response.status_code == 200
    (person,) = response.json()["results"]
    if role in FULL_ROLES:
        assert (person["id_number"], person["birth_date"]) == (ID_A, BIRTH)
    else:
        assert (person["id_number"], person["birth_date"]) == (mask_id_number(ID_A), None)
    assert isinstance(person["age"], int)
    _assert_shown(response.content.decode(), role)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLE_KEYS)
def test_list_export_xlsx(world, role):
    response = _client(world, role).get(f"/lists/M6-2/{world.a.village.code}/?period={YEAR}&format=xlsx")
    assert response.status_code == 200
    text = _xlsx_text(response.content)
    assert world.a.person.name in text
    _assert_shown(text, role)


@pytest.mark.django_db
def test_unmask_without_the_permission_is_403_and_not_logged(world):
    response = _client(world, "admin").post(f"/persons/{world.a.person.pk}/unmask/")
    assert response.status_code == 403
    assert ID_A not in response.content.decode()
    assert PersonalDataAccess.objects.count() == 0


@pytest.mark.django_db
def test_unmask_one_record_with_the_permission_is_logged(world):
    admin = world.admin
    admin.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    client = Client(REMOTE_ADDR="10.1.2.3")
    client.force_login(admin)
    response = client.post(f"/persons/{world.a.person.pk}/unmask/")
    assert response.status_code == 200
    assert response.json() == {"id_number": ID_A, "phone": PHONE_A}
    assert response["Cache-Control"] == "no-store"
    log = PersonalDataAccess.objects.get()
    assert (log.user, log.entity, log.object_id, log.ip_address) == (admin, "person", world.a.person.pk, "10.1.2.3")
    # issue 17 finding 3: the log names the person, never a fragment of the number it revealed
    assert log.object_label == world.a.person.name
    assert mask_id_number(ID_A) not in log.object_label
    # Another county's record is not reachable even with the permission: 404, nothing logged.
    county = world.a.users["county"]
    county.user_permissions.add(Permission.objects.get(codename="view_personal_data"))
    other = Client()
    other.force_login(county)
    assert other.post(f"/persons/{world.b.person.pk}/unmask/").status_code == 404
    assert PersonalDataAccess.objects.count() == 1
