"""The worked example of tests/data/example imports cleanly, in the README's order, and idempotently."""

import pytest

from accounts import personal_data
from areas.models import Area
from households import importing
from households.importing import readers
from households.models import (
    ChangeFeed,
    FollowUpAction,
    Grievance,
    HistoryEntry,
    Household,
    Income,
    Person,
    Site,
)
from indicators.models import CityStatistic, Commendation, CountyFinance
from tests.import_files import EXAMPLE, EXAMPLE_FILES, run_command

EXPECTED = {
    "areas": 14,
    "sites": 3,
    "households": 11,
    "persons": 27,
    "incomes": 17,
    "grievances": 9,
    "actions": 3,
    "finance": 3,
    "citystats": 2,
    "commendations": 7,
}


def counted_persons() -> int:
    return Person.objects.filter(status="正常", household__status="正常").count()


@pytest.fixture(params=["calamine", "openpyxl"])
def xlsx_reader(request, monkeypatch):
    if request.param == "openpyxl":
        monkeypatch.setattr(readers, "CalamineWorkbook", None)
    elif readers.CalamineWorkbook is None:
        pytest.skip("python-calamine is not installed")
    return request.param


@pytest.mark.django_db
def test_example_imports_in_readme_order_then_reimport_changes_nothing(xlsx_reader):
    for kind, name in EXAMPLE_FILES:
        status, out, err = run_command("import_data", kind, str(EXAMPLE / name))
        assert status == 0, (kind, out, err)
        assert f"新增 {EXPECTED[kind]}，修改 0，未变 0" in out

    assert Area.objects.count() == 14
    assert Site.objects.count() == 3
    assert Household.objects.count() == 11
    assert Household.objects.filter(status="已注销").count() == 2
    assert Person.objects.count() == 27
    assert counted_persons() == 23
    assert Income.objects.count() == 17
    assert Grievance.objects.count() == 9
    assert FollowUpAction.objects.count() == 3
    assert CountyFinance.objects.count() == 3
    assert CityStatistic.objects.count() == 2
    assert Commendation.objects.count() == 7
    history = HistoryEntry.objects.count()
    assert history == sum(EXPECTED.values())
    assert set(HistoryEntry.objects.values_list("channel", flat=True)) == {"system"}
    feeds = ChangeFeed.objects.count()

    for kind, name in EXAMPLE_FILES:
        status, out, _err = run_command("import_data", kind, str(EXAMPLE / name))
        assert status == 0
        assert f"新增 0，修改 0，未变 {EXPECTED[kind]}" in out
    assert HistoryEntry.objects.count() == history
    assert ChangeFeed.objects.count() == feeds


@pytest.mark.django_db
def test_example_spellings_are_read_as_meant():
    for kind, name in EXAMPLE_FILES:
        assert importing.run_import(kind, EXAMPLE / name).ok
    # 12-digit padded codes, numeric code cells
    assert Area.objects.get(code="431381").level == "县"
    township = Area.objects.get(code="431321101")
    assert township.has_industrial_park is True
    assert township.county_code == "431321"
    village = Area.objects.get(code="431321101201")
    assert (village.county_code, village.township_code, village.parent.code) == ("431321", "431321101", "431321101")
    # money, blank cells meaning defaults, a status with spaces
    h03 = Household.objects.get(code="H03")
    assert h03.dividend == 100050
    assert h03.site is None
    assert h03.safety_net == "无"
    assert Household.objects.get(code="H02").status == "正常"
    assert Household.objects.get(code="H05").status == "正常"
    assert Household.objects.get(code="H05").housing_hazard == "无"
    assert Income.objects.get(household__code="H05", year=2025).per_capita_income == 1296000
    # dates in five spellings
    names = dict(Person.objects.values_list("name", "employment_checked_on"))
    assert str(names["张一"]) == "2025-10-02"
    assert str(names["李二"]) == "2025-10-01"
    assert str(names["王七"]) == "2025-12-31"
    assert str(names["赵九"]) == "2026-01-05"
    assert str(Grievance.objects.get(code="G1").received_on) == "2025-03-01"
    # yes/no spellings, derived sex and birth date, masked ID, denormalised codes
    zhao = Person.objects.get(name="赵九")
    assert zhao.wants_work is True
    assert zhao.wants_training is False
    assert zhao.sex == "男"
    chen = Person.objects.get(name="陈廿二")
    assert chen.wants_work is True
    assert str(chen.birth_date) == "1992-02-29"
    assert personal_data.mask_id_number(personal_data.decrypt(chen.id_number_encrypted)) == "431302********0220"
    assert (chen.county_code, chen.township_code, chen.village_code) == ("431321", "431321101", "431321101200")
    assert Person.objects.get(name="褚廿三").employment == "未就业"
    assert Person.objects.get(name="褚廿六").schooling == "非在校"
    assert str(CityStatistic.objects.get(year=2025).city_income_growth) == "6.1000"
    assert Commendation.objects.filter(unit="市人社局").count() == 2
    action = FollowUpAction.objects.get(code="TZ2025-002")
    assert action.person.name == "李二"
    assert str(action.done_on) == "2026-01-20"
    assert FollowUpAction.objects.get(code="TZ2025-003").township_code == "431302001"


@pytest.mark.django_db
def test_warning_for_employment_without_labour_is_not_an_error():
    for kind, name in EXAMPLE_FILES[:3]:
        assert importing.run_import(kind, EXAMPLE / name).ok
    result = importing.run_import("persons", EXAMPLE / "persons.csv")
    assert result.ok
    assert result.created == 27
    assert [(w.row, w.column) for w in result.warnings] == [(6, "就业状态")]


@pytest.mark.django_db
def test_history_and_job_hold_no_plain_id_or_phone():
    # issue 17 finding 3: no fragment either, in the snapshots or the entries' codes
    for kind, name in EXAMPLE_FILES[:4]:
        assert importing.run_import(kind, EXAMPLE / name).ok
    text = str(list(HistoryEntry.objects.values_list("before", "after", "object_code")))
    assert "431302198005050012" not in text
    assert "431302********0012" not in text
    assert "'id_number': '已变更'" in text
    assert "'head_id': '已变更'" in text


@pytest.mark.django_db
def test_dry_run_writes_nothing():
    status, out, _ = run_command("import_data", "areas", str(EXAMPLE / "areas.xlsx"), "--dry-run")
    assert status == 0
    assert "新增 14" in out
    assert Area.objects.count() == 0
    assert HistoryEntry.objects.count() == 0
