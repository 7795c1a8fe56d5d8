"""The monitoring-identification procedure (issue 21): a case from 部门预警/干部排查/农户申报 through
入户核实 → 村级评议 with its 公示 → 乡镇初审 → 县级审定, returns with a reason, objections, the 公示
rule in working days around 春节 and 国庆 (fixed clock), the migration of the old one-click decisions,
pages with flat query counts, and the 公示 (page and PDF) without any ID number, phone or birth date."""

import datetime
import importlib
import os
import shutil
import subprocess
import warnings

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from accounts import personal_data
from accounts.models import Role
from households.choices import Monitoring, MonitoringDecisionKind, Relation
from households.models import ChangeFeed, HistoryEntry, Household, MonitoringDecision
from monitoring import clock, services
from monitoring.models import Case, CaseState, CaseStep, Objection, Source, StepAction
from tests.factories import AreaFactory, HouseholdFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db
PHONE = "13812345678"  # the household's own phone: never on the 公示
OFFICE = "0738-8321234"  # the 村委会's, typed by staff: on the 公示


@pytest.fixture
def w():  # type: ignore[no-untyped-def]
    AreaFactory.city()
    county = AreaFactory.county()
    township = AreaFactory.township(parent=county)
    village = AreaFactory.village(parent=township)
    far_county = AreaFactory.county(code="431381", name="冷水江市")
    far_township = AreaFactory.township(code="431381001", name="远乡", parent=far_county)
    far_village = AreaFactory.village(code="431381001001", name="远村", parent=far_township)
    household = HouseholdFactory(
        code="H00001",
        village=village,
        head_name="张三",
        phone_encrypted=personal_data.encrypt(PHONE),
        phone_masked="138****5678",
    )
    head = PersonFactory(household=household, relation=Relation.HEAD, name="张三")
    child = PersonFactory(household=household, relation=Relation.CHILD, name="张小")
    far = HouseholdFactory(code="H09001", village=far_village, head_name="李四")

    class W:
        pass

    w = W()
    w.county, w.township, w.village, w.far_village = county, township, village, far_village
    w.household, w.head, w.child, w.far = household, head, child, far
    w.villager = UserFactory(role=Role.VILLAGE_STAFF, area=village)
    w.townsman = UserFactory(role=Role.TOWNSHIP_STAFF, area=township)
    w.official = UserFactory(role=Role.COUNTY_OFFICIAL, area=county)
    w.far_official = UserFactory(role=Role.COUNTY_OFFICIAL, area=far_county)
    return w


@pytest.fixture
def on(monkeypatch):  # type: ignore[no-untyped-def]
    """Set the procedure's clock: ``on("2026-02-12")``."""

    def set_day(text: str) -> datetime.date:
        day = datetime.date.fromisoformat(text)
        monkeypatch.setattr(clock, "today", lambda: day)
        return day

    return set_day


def _to_county(w, on, opened: str = "2026-02-12", start: str = "2026-02-13") -> Case:  # type: ignore[no-untyped-def]
    on(opened)
    case = services.open_case(
        actor=w.villager, household=w.household, source=Source.CADRE, category=Monitoring.MARGINAL, note="排查发现"
    )
    services.home_visit(actor=w.villager, case=case, note="户主因病失去劳动能力，家庭收入骤降")
    on(start)
    services.village_review(
        actor=w.villager, case=case, note="评议同意纳入", place="村委会办公室", phone=OFFICE, start_on=None
    )
    services.publicity_end(actor=w.villager, case=case)
    services.township_review(actor=w.townsman, case=case, note="同意")
    case.refresh_from_db()
    assert case.state == CaseState.COUNTY
    return case


def test_the_whole_procedure_around_the_spring_festival(w, on):
    case = _to_county(w, on)
    # Opened Thu 2026-02-12: the home visit's 2 working days end on Sat 02-14, a 调休 working day.
    assert case.visit_due_on == datetime.date(2026, 2, 14)
    # The 公示 starts Fri 02-13: 5 working days are 02-14 (调休), then 02-24 … 02-27 after 春节.
    assert case.publicity is not None
    assert (case.publicity.start_on, case.publicity.end_on) == (datetime.date(2026, 2, 13), datetime.date(2026, 2, 27))
    on("2026-02-27")
    with pytest.raises(ValidationError) as refused:
        services.county_review(actor=w.official, case=case, outcome=MonitoringDecisionKind.INCLUDE)
    assert "2026-02-27" in refused.value.messages[0]
    assert "2026-02-28" in refused.value.messages[0]
    assert not MonitoringDecision.objects.exists()
    on("2026-02-28")
    feed = ChangeFeed.objects.count()
    case = services.county_review(
        actor=w.official, case=case, outcome=MonitoringDecisionKind.INCLUDE, category=Monitoring.UNSTABLE, note="审定"
    )
    assert case.state == CaseState.INCLUDED
    assert case.closed_on == datetime.date(2026, 2, 28)
    assert Household.objects.get(pk=w.household.pk).monitoring == Monitoring.UNSTABLE
    decision = MonitoringDecision.objects.get()
    assert (decision.decision, decision.category, decision.decided_by) == ("纳入监测", Monitoring.UNSTABLE, w.official)
    assert case.decision == decision
    assert HistoryEntry.objects.filter(entity="household", object_id=w.household.pk).exists()
    assert ChangeFeed.objects.count() > feed
    steps = list(CaseStep.objects.filter(case=case).values_list("step", "action", "user"))
    assert steps == [
        ("发起识别", "done", w.villager.pk),
        ("入户核实", "done", w.villager.pk),
        ("村级评议", "done", w.villager.pk),
        ("公示结束", "done", w.villager.pk),
        ("乡镇初审", "done", w.townsman.pk),
        ("县级审定", "done", w.official.pk),
    ]
    assert "病" in CaseStep.objects.get(case=case, step="入户核实").note


def test_the_publicity_rule_around_national_day(w, on):
    case = _to_county(w, on, opened="2026-09-29", start="2026-09-30")
    # 10-01 … 10-07 are holidays; Sat 10-10 is a 调休 working day: 10-08, 09, 10, 12, 13.
    assert case.publicity.end_on == datetime.date(2026, 10, 13)
    on("2026-10-13")
    with pytest.raises(ValidationError):
        services.county_review(actor=w.official, case=case, outcome=MonitoringDecisionKind.EXCLUDE)
    on("2026-10-14")
    case = services.county_review(actor=w.official, case=case, outcome=MonitoringDecisionKind.EXCLUDE)
    assert case.state == CaseState.EXCLUDED
    assert Household.objects.get(pk=w.household.pk).monitoring == Monitoring.NONE
    assert MonitoringDecision.objects.get().decision == MonitoringDecisionKind.EXCLUDE


def test_each_step_belongs_to_its_level(w, on):
    on("2026-03-02")
    case = services.open_case(actor=w.villager, household=w.household, source=Source.DECLARED, category="边缘易致贫户")
    with pytest.raises(PermissionDenied):
        services.open_case(actor=w.official, household=w.household, source=Source.CADRE, category="边缘易致贫户")
    with pytest.raises(ValidationError):  # one open case per household
        services.open_case(actor=w.townsman, household=w.household, source=Source.CADRE, category="边缘易致贫户")
    with pytest.raises(ValidationError):  # a visit needs its note
        services.home_visit(actor=w.villager, case=case, note=" ")
    services.home_visit(actor=w.townsman, case=case, note="核实属实")
    with pytest.raises(ValidationError):  # a phone the public can call
        services.village_review(actor=w.villager, case=case, note="同意", place="村部", phone="无")
    services.village_review(actor=w.villager, case=case, note="同意", place="村部", phone=OFFICE)
    services.publicity_end(actor=w.villager, case=case, note="")
    with pytest.raises(PermissionDenied):
        services.township_review(actor=w.villager, case=case)
    services.township_review(actor=w.townsman, case=case)
    with pytest.raises(PermissionDenied):
        services.county_review(actor=w.townsman, case=case, outcome="纳入监测")
    with pytest.raises(Http404):  # another county's official: the case is outside the area
        services.county_review(actor=w.far_official, case=case, outcome="纳入监测")


def test_any_step_sends_the_case_back_with_a_reason(w, on):
    case = _to_county(w, on)
    with pytest.raises(ValidationError):
        services.send_back(actor=w.official, case=case, note="")
    with pytest.raises(PermissionDenied):  # the county's step: the township cannot send it back
        services.send_back(actor=w.townsman, case=case, note="材料不全")
    case = services.send_back(actor=w.official, case=case, note="收入材料不全")
    assert (case.state, case.returned) == (CaseState.TOWNSHIP, True)
    case = services.send_back(actor=w.townsman, case=case, note="请重新评议")
    assert (case.state, case.publicity) == (CaseState.VILLAGE_REVIEW, None)
    returns = CaseStep.objects.filter(case=case, action=StepAction.RETURN).values_list("step", "note")
    assert list(returns) == [("县级审定", "收入材料不全"), ("乡镇初审", "请重新评议")]
    services.village_review(actor=w.villager, case=case, note="重新评议", place="村部", phone=OFFICE)
    case.refresh_from_db()
    assert (case.state, case.returned) == (CaseState.PUBLICITY, False)


def test_objections_are_recorded_against_the_case(w, on):
    on("2026-03-02")
    case = services.open_case(actor=w.villager, household=w.household, source=Source.CADRE, category="边缘易致贫户")
    with pytest.raises(ValidationError):  # not in 公示 yet
        services.record_objection(actor=w.villager, case=case, received_on=datetime.date(2026, 3, 2), text="不同意")
    services.home_visit(actor=w.villager, case=case, note="核实")
    services.village_review(actor=w.villager, case=case, note="同意", place="村部", phone=OFFICE)
    with pytest.raises(ValidationError):  # not in the future
        services.record_objection(actor=w.villager, case=case, received_on=datetime.date(2026, 3, 3), text="不同意")
    services.record_objection(actor=w.villager, case=case, received_on=datetime.date(2026, 3, 2), text="该户有营生")
    assert Objection.objects.get().recorded_by == w.villager
    services.publicity_end(actor=w.villager, case=case)
    assert "异议 1 条" in CaseStep.objects.get(case=case, step="公示结束").note


def test_old_decisions_migrate_into_closed_cases(w):
    included = MonitoringDecision.objects.create(
        household=w.household,
        decided_on=datetime.date(2025, 6, 1),
        decision=MonitoringDecisionKind.INCLUDE,
        category=Monitoring.MARGINAL,
        note="一键认定",
        decided_by=w.townsman,
        county_code=w.household.county_code,
        township_code=w.household.township_code,
        village_code=w.household.village_code,
    )
    excluded = MonitoringDecision.objects.create(
        household=w.far,
        decided_on=datetime.date(2025, 7, 1),
        decision=MonitoringDecisionKind.EXCLUDE,
        county_code=w.far.county_code,
        township_code=w.far.township_code,
        village_code=w.far.village_code,
    )
    migration = importlib.import_module("monitoring.migrations.0002_decisions_to_cases")
    migration.forwards(apps, None)
    migration.forwards(apps, None)  # again: nothing twice
    cases = {case.decision_id: case for case in Case.objects.all()}
    assert set(cases) == {included.pk, excluded.pk}
    one, two = cases[included.pk], cases[excluded.pk]
    assert (one.state, one.category, one.closed_on, one.village_code) == (
        CaseState.INCLUDED,
        Monitoring.MARGINAL,
        datetime.date(2025, 6, 1),
        w.village.code,
    )
    assert two.state == CaseState.EXCLUDED
    step = CaseStep.objects.get(case=one)
    assert (step.step, step.user, step.note) == ("县级审定", w.townsman, "一键认定")


# --- pages ------------------------------------------------------------------------------------------

# Session and user (2), the area, the count, the calendar overrides, the page's rows with their
# households and 公示 (4), the session save (3: SESSION_SAVE_EVERY_REQUEST).
LIST_QUERIES = 9


def test_case_list_and_page_query_counts_are_flat(w, on, client, django_assert_num_queries):
    on("2026-03-02")
    services.open_case(actor=w.villager, household=w.household, source=Source.CADRE, category="边缘易致贫户")
    client.force_login(w.official)
    url = reverse("monitoring_cases", args=[w.county.code])
    with django_assert_num_queries(LIST_QUERIES):
        text = client.get(url).content.decode()
    assert "H00001" in text
    assert "待入户核实" in text
    for n in range(20):
        household = HouseholdFactory(code=f"HM{n:04d}", village=w.village)
        services.open_case(actor=w.villager, household=household, source=Source.DECLARED, category="边缘易致贫户")
    with django_assert_num_queries(LIST_QUERIES):
        text = client.get(url).content.decode()
    assert "HM0019" in text
    client.force_login(w.far_official)
    assert client.get(url).status_code == 404
    case = Case.objects.get(household=w.household)
    assert client.get(reverse("monitoring_case", args=[case.pk])).status_code == 404
    client.force_login(w.villager)
    page = client.get(reverse("monitoring_case", args=[case.pk])).content.decode()
    assert "记录入户核实" in page


def test_warning_row_opens_a_case(w, on, client):
    on("2026-03-02")
    client.force_login(w.villager)
    response = client.post(
        reverse("warnings_decide", args=[w.village.code]),
        {"household": "H00001", "category": "边缘易致贫户", "note": "收入低于监测线"},
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert (case.source, case.state, case.category) == (Source.WARNING, CaseState.HOME_VISIT, "边缘易致贫户")
    assert not MonitoringDecision.objects.exists()


def _secrets(w) -> list[str]:  # type: ignore[no-untyped-def]
    """Every ID number, phone and birth date of the world, as they could be printed."""
    from accounts.personal_data import decrypt  # noqa: PLC0415 - reads the test world's ciphertexts only

    values = [PHONE]
    for person in (w.head, w.child):
        values.append(decrypt(person.id_number_encrypted))
        born = person.birth_date
        values += [f"{born:%Y-%m-%d}", f"{born:%Y%m%d}", f"{born.year}年{born.month}月{born.day}日"]
    return values


def _in_publicity(w, on) -> Case:  # type: ignore[no-untyped-def]
    on("2026-03-02")
    case = services.open_case(actor=w.villager, household=w.household, source=Source.CADRE, category="边缘易致贫户")
    services.home_visit(actor=w.villager, case=case, note="核实")
    services.village_review(actor=w.villager, case=case, note="同意", place="村委会一楼", phone=OFFICE)
    return case


def test_publicity_page_shows_no_personal_data(w, on, client):
    _in_publicity(w, on)
    client.force_login(w.villager)
    text = client.get(reverse("monitoring_publicity", args=[w.village.code])).content.decode()
    assert "张三" in text
    assert "H00001" in text
    assert "边缘易致贫户" in text
    assert "2026-03-02 ~ 2026-03-09" in text
    assert OFFICE in text
    assert "村委会一楼" in text
    for secret in _secrets(w):
        assert secret not in text


def test_publicity_pdf_shows_no_personal_data(w, on, client, tmp_path):
    if not shutil.which("pdftotext"):
        if os.environ.get("CI"):
            pytest.fail("pdftotext (poppler-utils) is missing on CI")
        warnings.warn("pdftotext (poppler-utils) missing: the 公示 PDF is not checked", stacklevel=1)
        pytest.skip("pdftotext (poppler-utils) missing")
    _in_publicity(w, on)
    client.force_login(w.townsman)
    response = client.get(reverse("monitoring_publicity_pdf", args=[w.village.code]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "filename*=utf-8''" in response["Content-Disposition"]
    assert "%E5%85%AC%E7%A4%BA" in response["Content-Disposition"]  # 公示
    path = tmp_path / "publicity.pdf"
    path.write_bytes(response.content)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    assert "张三" in text
    assert "H00001" in text
    assert "边缘易致贫户" in text
    assert OFFICE in text
    flat = text.replace(" ", "")
    for secret in _secrets(w):
        assert secret not in flat, secret


def test_household_file_opens_a_case_from_cadre_or_declaration(w, on, client):
    on("2026-03-02")
    client.force_login(w.villager)
    page = client.get(reverse("household_detail", args=["H00001"])).content.decode()
    assert "data-open-case" in page
    response = client.post(
        reverse("monitoring_open"), {"household": "H00001", "source": "农户申报", "category": "突发严重困难户"}
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("monitoring_case", args=[case.pk])
    assert (case.source, case.category, case.opened_by) == ("农户申报", "突发严重困难户", w.villager)
    assert case.due_on == datetime.date(2026, 3, 23)  # 15 working days after Monday 03-02
    # 部门预警 comes from the 预警清单 only; another county's household is unknown.
    client.post(reverse("monitoring_open"), {"household": "H00001", "source": "部门预警", "category": "边缘易致贫户"})
    assert Case.objects.count() == 1
    foreign = client.post(
        reverse("monitoring_open"), {"household": "H09001", "source": "干部排查", "category": "边缘易致贫户"}
    )
    assert foreign.status_code == 404
    client.force_login(w.official)
    assert "data-open-case" not in client.get(reverse("household_detail", args=["H00001"])).content.decode()


# Session and user (2), the case with its household and 公示, the calendar overrides, the steps with
# their users, the objections (4), the session save (3).
CASE_QUERIES = 9


def test_case_page_query_count_is_flat_in_steps_and_objections(w, on, client, django_assert_num_queries):
    case = _in_publicity(w, on)
    client.force_login(w.official)
    url = reverse("monitoring_case", args=[case.pk])
    with django_assert_num_queries(CASE_QUERIES):
        text = client.get(url).content.decode()
    assert "村级评议" in text
    for n in range(5):
        services.record_objection(actor=w.villager, case=case, received_on=datetime.date(2026, 3, 2), text=f"异议{n}")
    services.publicity_end(actor=w.villager, case=case)
    services.township_review(actor=w.townsman, case=case)
    case = services.send_back(actor=w.official, case=Case.objects.get(pk=case.pk), note="补充材料")
    with django_assert_num_queries(CASE_QUERIES):
        text = client.get(url).content.decode()
    assert "异议4" in text
    assert "补充材料" in text
