"""Admin of the monitoring procedure and the 消息中心 (issue 21): the city administrator reads cases
with their steps and objections, the 公示 and the messages, read-only, and no page shows anyone's ID
number or phone."""

import datetime

import pytest

from accounts import personal_data
from accounts.models import Role
from households.choices import Monitoring, Relation
from households.models import Person
from monitoring import clock, services
from monitoring.models import Case, Objection, Publicity, Source
from notices.models import Notice
from tests.factories import AreaFactory, HouseholdFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db
PHONE = "13812345678"
OFFICE = "0738-8321234"  # the 村委会's, printed on the public 公示


@pytest.fixture
def case(monkeypatch) -> Case:
    monkeypatch.setattr(clock, "today", lambda: datetime.date(2026, 3, 2))
    AreaFactory.city()
    village = AreaFactory.village()
    household = HouseholdFactory.create(
        code="H00001",
        village=village,
        head_name="张三",
        phone_encrypted=personal_data.encrypt(PHONE),
        phone_masked="138****5678",
    )
    PersonFactory.create(household=household, relation=Relation.HEAD, name="张三")
    villager = UserFactory.create(role=Role.VILLAGE_STAFF, area=village)
    case = services.open_case(
        actor=villager, household=household, source=Source.CADRE, category=Monitoring.MARGINAL, note="排查发现"
    )
    services.home_visit(actor=villager, case=case, note="户主因病失去劳动能力")
    services.village_review(actor=villager, case=case, note="评议同意", place="村委会", phone=OFFICE, start_on=None)
    services.record_objection(actor=villager, case=case, received_on=datetime.date(2026, 3, 2), text="邻居提出异议")
    return case


@pytest.fixture
def admin_client(client):  # type: ignore[no-untyped-def]
    city = AreaFactory.city()
    user = UserFactory.create(username="a", role=Role.CITY_ADMIN, area=city, is_staff=True, is_superuser=True)
    client.force_login(user)
    client.user = user
    return client


def _secrets(case: Case) -> list[str]:
    head = Person.objects.get(household=case.household, relation=Relation.HEAD)
    id_number = personal_data.decrypt(head.id_number_encrypted)
    return [id_number, id_number[:6] + "********" + id_number[-4:], PHONE, "138****5678"]


def test_cases_show_steps_and_objections_read_only_without_id_number_or_phone(admin_client, case):
    Notice.objects.create(user=admin_client.user, title="到期提醒：3 件临期", body="监测对象识别 3 件临期")
    publicity = Publicity.objects.get()
    objection = Objection.objects.get()
    pages = {
        "/admin/monitoring/case/": "H00001 张三",
        f"/admin/monitoring/case/{case.pk}/change/": "户主因病失去劳动能力",
        "/admin/monitoring/publicity/": "村委会",
        f"/admin/monitoring/publicity/{publicity.pk}/change/": "村委会",
        "/admin/monitoring/objection/": "邻居提出异议",
        f"/admin/monitoring/objection/{objection.pk}/change/": "邻居提出异议",
        "/admin/notices/notice/": "到期提醒：3 件临期",
        f"/admin/notices/notice/{Notice.objects.get().pk}/change/": "监测对象识别 3 件临期",
    }
    for url, shown in pages.items():
        response = admin_client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert shown in html, url
        for secret in _secrets(case):
            assert secret not in html, (url, secret)
    detail = admin_client.get(f"/admin/monitoring/case/{case.pk}/change/").content.decode()
    for step in ("发起识别", "入户核实", "村级评议"):
        assert step in detail
    assert 'name="_save"' not in detail  # a view, not a form


def test_the_procedure_is_not_changed_in_the_admin(admin_client, case):
    assert admin_client.get("/admin/monitoring/case/add/").status_code == 403
    response = admin_client.post(f"/admin/monitoring/case/{case.pk}/change/", {"state": "已纳入监测"})
    assert response.status_code == 403
    assert admin_client.post(f"/admin/monitoring/case/{case.pk}/delete/").status_code == 403
    case.refresh_from_db()
    assert case.state != "已纳入监测"
    assert admin_client.get("/admin/notices/notice/add/").status_code == 403
