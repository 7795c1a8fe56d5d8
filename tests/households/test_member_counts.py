"""Each household's labour-force member counts (M3-3's inputs) follow every write of its persons:
the triggers of households migration 0003, on SQLite and PostgreSQL alike."""

import datetime
import itertools

import pytest

from households import services
from households.choices import Employment, Labour, RecordStatus, Relation
from households.models import EMPLOYED, LABOUR_FORCE_MEMBER, MEMBER_COUNT_FIELDS, Household, Person
from tests.factories import HouseholdFactory, PersonFactory, make_id_number, persons_bulk

pytestmark = pytest.mark.django_db


def stored(household: Household) -> tuple[int, int]:
    return Household.objects.filter(pk=household.pk).values_list(*MEMBER_COUNT_FIELDS).get()


def truth(household: Household) -> tuple[int, int]:
    """The counts by the engine's own definitions of a labour-force and an employed member."""
    members = Person.objects.filter(household=household)
    return members.filter(LABOUR_FORCE_MEMBER).count(), members.filter(LABOUR_FORCE_MEMBER & EMPLOYED).count()


def test_the_counts_follow_the_definitions_for_every_labour_status_and_employment():
    households = []
    for labour, status, employment in itertools.product(Labour.values, RecordStatus.values, Employment.values):
        household = HouseholdFactory()
        persons_bulk(household, 2, labour=labour, status=status, employment=employment)
        households.append(household)
    assert [stored(household) for household in households] == [truth(household) for household in households]
    # Labour-force members are counted whatever their employment; the employed ones only if employed.
    assert {stored(household) for household in households} == {(0, 0), (2, 0), (2, 2)}


def test_the_counts_follow_inserts_updates_moves_upserts_and_deletes():
    household, other = HouseholdFactory(), HouseholdFactory()
    worker = PersonFactory(household=household, labour=Labour.ORDINARY, employment=Employment.MIGRANT)
    assert stored(household) == (1, 1)
    idle = persons_bulk(household, 3, labour=Labour.SKILLED)
    assert stored(household) == (4, 1)

    Person.objects.filter(pk__in=[person.pk for person in idle]).update(employment=Employment.LOCAL_FIRM)
    assert stored(household) == (4, 4)
    Person.objects.filter(pk=idle[0].pk).update(labour=Labour.LOST)
    assert stored(household) == (3, 3)
    Person.objects.filter(pk=idle[1].pk).update(status=RecordStatus.CANCELLED)
    assert stored(household) == (2, 2)

    worker.household = other  # a member moves to another household: both are recounted
    worker.save()
    assert (stored(household), stored(other)) == ((1, 1), (1, 1))

    # The imports' upsert (INSERT … ON CONFLICT DO UPDATE) of a changed member.
    changed = Person.objects.get(pk=idle[2].pk)
    changed.employment = Employment.UNEMPLOYED
    Person.objects.bulk_create([changed], update_conflicts=True, unique_fields=["id"], update_fields=["employment"])
    assert stored(household) == (1, 0)

    Person.objects.filter(household=household).delete()
    assert stored(household) == (0, 0) == truth(household)
    assert stored(other) == (1, 1) == truth(other)


def test_the_services_keep_the_counts_and_a_stale_household_does_not_undo_them():
    household = services.household_register(
        actor=None,
        code="H-COUNTS",
        village_code=HouseholdFactory().village_code,
        data={"head_name": "户主", "category": "建档立卡户"},
    )
    person = services.person_create(
        actor=None,
        household=household,
        id_number=make_id_number(datetime.date(1985, 3, 1), sequence=7),
        data={
            "name": "甲",
            "relation": Relation.HEAD,
            "labour": Labour.ORDINARY,
            "employment_checked_on": datetime.date(2025, 6, 1),
        },
    )
    assert stored(household) == (1, 0)
    services.person_set_employment(actor=None, person=person, employment=Employment.WORKSHOP)
    assert stored(household) == (1, 1)

    # ``household`` was read before its member was written: saving it keeps the triggers' counts.
    assert (household.labour_force_members, household.employed_labour_force_members) == (0, 0)
    household.tap_water = True
    household.save()
    assert stored(household) == (1, 1)
    services.household_update(actor=None, household=household, data={"helper": "李四"})
    assert stored(household) == (1, 1)

    services.household_cancel(actor=None, household=household)  # its members are cancelled with it
    assert stored(household) == (0, 0) == truth(household)
