"""The Django admin is for the city administrator and superusers only; its saves are recorded."""

import pytest

from accounts.models import Role
from areas.choices import AreaLevel
from households.models import HistoryEntry
from tests.factories import AreaFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def city():
    return AreaFactory.create(code="431300", name="娄底市", level=AreaLevel.CITY)


@pytest.mark.parametrize("role", [Role.VILLAGE_STAFF, Role.TOWNSHIP_STAFF, Role.COUNTY_OFFICIAL, Role.CITY_BUREAU])
def test_admin_is_closed_to_other_roles(client, city, role):
    user = UserFactory.create(username="u", role=role, area=city, is_staff=True)
    client.force_login(user)
    response = client.get("/admin/households/household/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_city_admin_lists_every_model_and_admin_saves_are_recorded(client, city):
    admin_user = UserFactory.create(username="a", role=Role.CITY_ADMIN, area=city, is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    for model in ("site", "household", "person", "income", "grievance", "followupaction", "historyentry"):
        assert client.get(f"/admin/households/{model}/").status_code == 200, model
    response = client.post(
        f"/admin/areas/area/{city.pk}/change/",
        {"code": "431300", "name": "娄底市（改）", "level": "市", "parent": ""},
    )
    assert response.status_code == 302
    entry = HistoryEntry.objects.get(entity="area")
    assert (entry.channel, entry.user, entry.before, entry.after) == (
        "admin",
        admin_user,
        {"name": "娄底市"},
        {"name": "娄底市（改）"},
    )
