"""Every write path leaves a history entry (data.md, History): each form and API write of the URL
policy (driven by ``accounts/url_policy.py``, so a new write route is checked here too), a bulk import
(one entry per changed row, tied to its job), the admin change form, and a service run by a task
(channel system) — with the right user, channel, action and before/after values, personal data masked."""

import json

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import reverse

from accounts.access import can_write
from accounts.url_policy import POLICY
from households import services
from households.choices import Channel
from households.importing import run_import
from households.models import HistoryEntry, ImportJob
from tests.accounts.test_access_matrix import HISTORY_KINDS, NOT_WRITES, _fill, _value
from tests.factories import make_id
from tests.import_files import write_csv
from tests.world import ID_A, PHONE_A, World, build_world

WRITERS = ("village", "township", "county", "finance", "admin")
WRITE_ROUTES = sorted(
    name
    for name, rule in POLICY.items()
    if rule.method and rule.sample is not None and set(rule.write) & HISTORY_KINDS and name not in NOT_WRITES
)
CHANGE_ACTIONS = {
    HistoryEntry.Action.UPDATE,
    HistoryEntry.Action.CANCEL,
    HistoryEntry.Action.TRANSFER,
    HistoryEntry.Action.CORRECT_ID,
}
HEADERS = ["身份证号", "姓名", "户编号", "与户主关系", "状态", "劳动能力", "就业状态", "就业信息更新日期", "在校情况"]


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


def _new_entries(since: int) -> list[HistoryEntry]:
    return list(HistoryEntry.objects.filter(pk__gt=since).order_by("pk"))


def _last() -> int:
    return HistoryEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


@pytest.mark.django_db
@pytest.mark.parametrize("name", WRITE_ROUTES)
def test_every_form_and_api_write_is_recorded(world: World, name: str):
    rule = POLICY[name]
    role = next(role for role in WRITERS if any(can_write(world.user(role), kind) for kind in rule.write))
    user = world.user(role)
    client = Client()
    client.force_login(user)
    kwargs = {keyword: _value(world, kind, "inside", user) for keyword, kind in rule.objects.items()}
    body, _typed = _fill(rule.sample or {}, world, "inside", user)
    since = _last()
    url = reverse(name, kwargs=kwargs)
    if rule.json:
        assert rule.method, name  # a JSON write names its HTTP method
        response = getattr(client, rule.method)(url, data=json.dumps(body), content_type="application/json")
    else:
        response = client.post(url, body)
    assert response.status_code == rule.ok, response.content[:400]
    entries = _new_entries(since)
    assert entries, f"{name} wrote no history entry"
    channel = Channel.API if rule.json else Channel.FORM
    for entry in entries:
        assert (entry.user, entry.channel, entry.import_job) == (user, channel, None)
        assert entry.after, "an entry without the values after"
        if entry.action == HistoryEntry.Action.CREATE:
            assert entry.before == {}
        else:  # a change of a stored record: plain, or one of the recorded events (issue 20 pages)
            assert entry.action in CHANGE_ACTIONS
            assert entry.before
            assert set(entry.before) == set(entry.after)
        text = json.dumps([entry.before, entry.after], ensure_ascii=False)
        plain = [
            value for value in body.values() if isinstance(value, str) and len(value) == 18 and value[:6].isdigit()
        ]
        assert not [value for value in plain if value in text], "a plaintext ID number in the history"


@pytest.mark.django_db
def test_an_update_records_exactly_the_changed_values(world: World):
    user = world.a.users["village"]
    client = Client()
    client.force_login(user)
    since = _last()
    url = f"/api/v1/households/{world.a.household.code}/"
    response = client.patch(url, data=json.dumps({"head_name": "张三改"}), content_type="application/json")
    assert response.status_code == 200
    (entry,) = _new_entries(since)
    assert (entry.entity, entry.object_code, entry.action, entry.channel, entry.user) == (
        "household", world.a.household.code, "update", "api", user
    )  # fmt: skip
    assert (entry.before, entry.after) == ({"head_name": "张三丰"}, {"head_name": "张三改"})


@pytest.mark.django_db
def test_a_bulk_import_records_one_entry_per_row_tied_to_its_job(world: World, tmp_path):
    staff = world.a.users["village"]
    ids = [make_id(f"43130220010{index}01001") for index in range(1, 4)]
    rows = [[number, f"导入{index}", world.a.household.code, "子女", "正常", "无劳动力", "未就业", "", "非在校"]
            for index, number in enumerate(ids)]  # fmt: skip
    job = ImportJob.objects.create(kind="persons", file_name="p.csv", created_by=staff)
    since = _last()
    result = run_import("persons", write_csv(tmp_path / "p.csv", HEADERS, rows), user=staff, job=job)
    assert not result.errors
    entries = _new_entries(since)
    assert [(e.entity, e.action, e.channel, e.user, e.import_job) for e in entries] == [
        ("person", "create", "import", staff, job)
    ] * 3
    text = json.dumps([entry.after for entry in entries], ensure_ascii=False)
    assert not [number for number in ids if number in text]
    assert all(entry.after["name"].startswith("导入") for entry in entries)


@pytest.mark.django_db
def test_an_import_by_the_system_is_recorded_with_channel_system(world: World, tmp_path):
    number = make_id("43130220010601001")
    rows = [[number, "系统导入", world.a.household.code, "子女", "正常", "无劳动力", "未就业", "", "非在校"]]
    since = _last()
    run_import("persons", write_csv(tmp_path / "s.csv", HEADERS, rows), user=None)
    (entry,) = _new_entries(since)
    assert (entry.action, entry.channel, entry.user) == ("create", "system", None)


@pytest.mark.django_db
def test_the_admin_change_form_is_recorded(world: World):
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.save()
    client = Client()
    client.force_login(world.admin)
    site = world.a.site
    since = _last()
    response = client.post(
        f"/admin/households/site/{site.pk}/change/",
        {"code": site.code, "name": "幸福新城", "village": site.village_id, "kind": site.kind},
    )
    assert response.status_code == 302, response.content[:500]
    (entry,) = _new_entries(since)
    assert (entry.entity, entry.action, entry.channel, entry.user) == ("site", "update", "admin", world.admin)
    assert (entry.before, entry.after) == ({"name": "幸福小区"}, {"name": "幸福新城"})


@pytest.mark.django_db
def test_a_service_run_by_a_task_is_recorded_as_the_system(world: World):
    since = _last()
    services.person_set_employment(actor=None, person=world.a.person, employment="外出务工", channel=Channel.SYSTEM)
    (entry,) = _new_entries(since)
    assert (entry.entity, entry.action, entry.channel, entry.user) == ("person", "update", "system", None)
    assert entry.before["employment"] == "未就业"
    assert entry.after["employment"] == "外出务工"


@pytest.mark.django_db
def test_history_holds_personal_data_masked_only(world: World):
    # issue 17 finding 3: not even the masked ID (first 6 + last 4 beside birth_date rebuild it)
    text = json.dumps(list(HistoryEntry.objects.values_list("before", "after")), ensure_ascii=False)
    assert ID_A not in text
    assert PHONE_A not in text
    assert "431302********" not in text
    assert ID_A[-4:] not in text
    assert '"id_number": "已变更"' in text
