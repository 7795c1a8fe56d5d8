"""Changing the 户主 keeps the other members' 与户主关系 (the spec, data.md, is silent and only the clerk
knows them) but says so: the form warns before, and the household's file names each member to review
after (issue 20 follow-up)."""

import pytest
from django.urls import reverse

from households.models import Person
from tests.households.test_event_pages import (  # noqa: F401  (fixtures)
    CHILD_ID,
    HEAD_ID,
    SPOUSE_ID,
    _client,
    _household,
    areas,
    users,
)

pytestmark = pytest.mark.django_db


def test_the_others_relations_are_kept_and_named_for_review(client, users):  # noqa: F811
    members = ((HEAD_ID, "张一", "户主"), (SPOUSE_ID, "李二", "配偶"), (CHILD_ID, "张三", "子女"))
    household = _household(users["township"], members=members)
    _client(client, users["township"])
    url = reverse("household_change_head", args=[household.code])
    assert "其他成员的“与户主关系”不会自动更改" in client.get(url).content.decode()
    child = Person.objects.get(household=household, name="张三")
    response = client.post(url, {"new_head": str(child.pk), "old_head_relation": "父母"}, follow=True)
    body = response.content.decode()
    assert "已将 张三 设为户主。" in body
    assert "其他成员的“与户主关系”仍按原户主填写，未自动更改，请逐一核对：李二（配偶）。" in body
    relations = dict(Person.objects.filter(household=household).values_list("name", "relation"))
    assert relations == {"张一": "父母", "李二": "配偶", "张三": "户主"}  # the spouse's is the clerk's to fix


def test_no_warning_when_no_other_member_is_left(client, users):  # noqa: F811
    household = _household(users["township"])  # 户主 and 配偶 only
    _client(client, users["township"])
    spouse = Person.objects.get(household=household, relation="配偶")
    url = reverse("household_change_head", args=[household.code])
    body = client.post(url, {"new_head": str(spouse.pk), "old_head_relation": "配偶"}, follow=True).content.decode()
    assert "已将 李二 设为户主。" in body
    assert "请逐一核对" not in body
