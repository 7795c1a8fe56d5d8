"""The login backend loads the user's area with the user: every page scopes by it."""

import pytest

from accounts.backends import AreaModelBackend
from accounts.models import Role
from tests.factories import AreaFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_session_user_comes_with_its_area_in_one_query(django_assert_num_queries):
    user = UserFactory.create(username="staff", role=Role.TOWNSHIP_STAFF, area=AreaFactory())
    with django_assert_num_queries(1):
        loaded = AreaModelBackend().get_user(user.pk)
        assert loaded.area.code == user.area.code


def test_an_inactive_or_missing_user_is_nobody():
    user = UserFactory.create(username="left", role=Role.TOWNSHIP_STAFF, area=AreaFactory(), is_active=False)
    assert AreaModelBackend().get_user(user.pk) is None
    assert AreaModelBackend().get_user(10**9) is None
