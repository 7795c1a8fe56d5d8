"""seed_demo (interfaces.md): deterministic content per seed, plausible counts, valid personal data."""

import datetime
import hashlib
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from accounts import personal_data
from accounts.models import User
from areas.models import Area
from households.models import (
    FollowUpAction,
    Grievance,
    Household,
    Income,
    Person,
    Site,
)
from households.validators import id_birth_date, id_sex, validate_id_number
from indicators.models import CityStatistic, Commendation, CountyFinance, MonitoringLine
from workspace import demo

TODAY = datetime.date(2026, 6, 15)
# Ciphertexts and timestamps differ between runs by design; so do the ids of rows created through the ORM
# (on PostgreSQL a rolled-back transaction does not give sequence values back). Rows are compared in pk order.
SKIP_FIELDS = {
    "id",
    "id_number_encrypted",
    "head_id_encrypted",
    "phone_encrypted",
    "updated_at",
    "created_at",
    "password",
    "date_joined",
    "last_login",
}


class _Rollback(Exception):
    pass


def _seed(households: int = 300, seed: int = 7, *extra: str) -> str:
    out = StringIO()
    call_command(
        "seed_demo",
        f"--households={households}",
        f"--seed={seed}",
        f"--today={TODAY}",
        "--no-compute",
        *extra,
        stdout=out,
    )
    return out.getvalue()


def _digest() -> str:
    """A digest of every seeded row, with decrypted ID and phone numbers instead of ciphertexts."""
    digest = hashlib.sha256()
    for model in (
        Area,
        Site,
        Household,
        Person,
        Income,
        Grievance,
        FollowUpAction,
        CountyFinance,
        CityStatistic,
        Commendation,
        MonitoringLine,
        User,
    ):
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in SKIP_FIELDS]
        for row in model.objects.order_by("pk").values_list(*fields):
            digest.update(repr(row).encode())
        if model is Person:
            for token in Person.objects.order_by("pk").values_list("id_number_encrypted", flat=True):
                digest.update(personal_data.decrypt(token).encode())
        if model is Household:
            for phone, head in Household.objects.order_by("pk").values_list("phone_encrypted", "head_id_encrypted"):
                digest.update(f"{personal_data.decrypt(phone)}/{personal_data.decrypt(head)}".encode())
    return digest.hexdigest()


def _seed_and_digest(seed: int) -> str:
    try:
        with transaction.atomic():
            _seed(300, seed)
            result = _digest()
            raise _Rollback
    except _Rollback:
        pass
    assert not Area.objects.exists()
    return result


@pytest.mark.django_db
def test_same_seed_same_content_and_another_seed_other_content():
    first = _seed_and_digest(7)
    second = _seed_and_digest(7)
    other = _seed_and_digest(8)

    assert first == second
    assert other != first


@pytest.mark.django_db
def test_counts_are_in_the_expected_ranges():
    output = _seed(300, 7)

    assert Household.objects.count() == 300
    assert 300 * 3.2 <= Person.objects.count() <= 300 * 3.9
    # About one site per 240 persons (289 at 19,200 households), at least one per county-level unit.
    assert 6 <= Site.objects.count() <= 8
    assert Site.objects.values("county_code").distinct().count() == 6
    assert Area.objects.filter(level="县").count() == 6
    assert Area.objects.filter(level="乡镇").count() == 91  # 89 real + two demo townships of the 经开区
    assert Area.objects.get(code="431371").name == "娄底经开区"
    assert set(Area.objects.filter(is_demo=True, level="乡镇").values_list("code", flat=True)) == {
        "431371001",
        "431371002",
    }
    villages = Area.objects.filter(level="村")
    assert villages.exists()
    assert all(len(v.code) == 12 and v.code.startswith(v.parent.code) for v in villages.select_related("parent"))
    assert Household.objects.filter(site__isnull=True).exists()  # dispersed households
    assert Household.objects.filter(status="已注销").count() < 30
    assert Income.objects.filter(year=2025).exists()
    assert Income.objects.filter(year=2024).exists()
    assert not Income.objects.exclude(year__in=(2024, 2025)).exists()
    assert CountyFinance.objects.filter(year__in=(2024, 2025)).count() == 12
    assert set(CityStatistic.objects.values_list("year", flat=True)) == {2024, 2025}
    assert set(MonitoringLine.objects.values_list("year", flat=True)) >= {2024, 2025}
    assert Commendation.objects.exists()
    assert FollowUpAction.objects.filter(status__in=("待办", "进行中"), due_on__lt=TODAY).exists()  # overdue
    assert set(User.objects.values_list("role", flat=True)) == {
        "village_staff",
        "township_staff",
        "county_official",
        "city_bureau",
        "city_admin",
    }
    assert User.objects.get(username="demo_bureau").department == "市人社局"
    assert User.objects.get(username="demo_village").check_password("Loudi-demo-2026")
    assert "demo_admin" in output


@pytest.mark.django_db
def test_records_are_consistent():
    _seed(300, 7)

    people = list(Person.objects.order_by("pk"))
    ids = [personal_data.decrypt(person.id_number_encrypted) for person in people]
    assert len(set(ids)) == len(ids)
    for person, id_number in zip(people, ids, strict=True):
        assert validate_id_number(id_number, today=TODAY) == id_number
        assert person.id_number_hash == personal_data.blind_index(id_number)
        assert person.birth_date == id_birth_date(id_number)
        assert person.sex == id_sex(id_number)
    heads = Household.objects.filter(status="正常").annotate(
        heads=Count("members", filter=Q(members__relation="户主", members__status="正常"))
    )
    assert set(heads.values_list("heads", flat=True)) == {1}
    assert not Person.objects.filter(household__status="已注销", status="正常").exists()
    for household in Household.objects.select_related("village", "site"):
        assert household.village.level == "村"
        assert household.village_code == household.village.code
        assert household.township_code == household.village.code[:9]
        assert household.site is None or household.site.village_id == household.village_id
    for person in Person.objects.select_related("household"):
        assert (person.county_code, person.township_code, person.village_code) == (
            person.household.county_code,
            person.household.township_code,
            person.household.village_code,
        )


@pytest.mark.django_db
def test_a_seeded_database_is_refused():
    _seed(150, 1)

    with pytest.raises(CommandError, match="已有"):
        _seed(150, 2)
    assert Household.objects.count() == 150


@pytest.mark.django_db
def test_too_few_households_is_refused():
    with pytest.raises(CommandError):
        _seed(10, 1)
    assert not Area.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_full_run_publishes_the_previous_year_for_every_demo_user_and_leaves_the_running_year_computable(client):
    """Acceptance 6 of issue 19: a fresh demo shows every demo user the previous year's published
    report; the administrator computes the running year's draft as the README says (``assess``)."""
    from indicators.assessment.scoring import assessment_current_run, assessment_is_published
    from indicators.models import IndicatorValue, Level

    out = StringIO()
    call_command("seed_demo", "--households=150", "--seed=3", stdout=out)
    year = timezone.localdate().year

    assert assessment_is_published(year - 1)
    assert assessment_current_run(year) is None  # the running year is left to the administrator
    # Employment checks of each period fall inside it: M3-1 is far from 0 % in both years.
    for key in (str(year - 1), str(year)):
        value = IndicatorValue.objects.get(
            period__key=key, level=Level.CITY, unit_code="431300", indicator__code="M3-1"
        )
        assert value.denominator
        assert value.numerator / value.denominator > 0.8, (key, value.numerator)
    for username, *_ in demo.DEMO_USERS:
        client.force_login(User.objects.get(username=username))
        years = client.get("/assessment/")
        assert years.status_code == 200
        assert f'href="/assessment/{year - 1}/"' in years.content.decode(), username
        report = client.get(f"/assessment/{year - 1}/")
        assert report.status_code == 200, username
        assert "新化县" in report.content.decode()
        assert "暂无可查阅" not in years.content.decode()

    call_command("assess", f"--year={year}", stdout=StringIO())
    draft = assessment_current_run(year)
    assert draft is not None
    assert draft.published_at is None
    client.force_login(User.objects.get(username="demo_admin"))
    assert client.get(f"/assessment/{year}/").status_code == 200


@pytest.mark.django_db
def test_the_running_year_brings_new_checks_and_training_on_top_of_the_previous_years():
    _seed(300, 7)

    checked = Person.objects.filter(employment_checked_on__isnull=False)
    assert checked.filter(employment_checked_on__year=TODAY.year).count() > 0.8 * checked.count()
    assert not checked.filter(employment_checked_on__gt=TODAY).exists()
    trained = Person.objects.filter(wants_training=True)
    assert trained.filter(trained_on__year=TODAY.year - 1).exists()
    assert trained.filter(trained_on__year=TODAY.year, trained_on__lte=TODAY).exists()
    actions = FollowUpAction.objects.all()
    assert actions.filter(due_on__year=TODAY.year - 1, status="已完成").exists()
    assert not actions.filter(done_on__gt=TODAY).exists()
