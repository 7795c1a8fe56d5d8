"""Phone numbers typed into free text are masked where ID numbers are redacted (issue 20 follow-up):
a mobile (also grouped by spaces or dashes) or a landline with its area code becomes the phone field's
mask (``138****5678``) in every note the services, the API and the sweep write; dates, amounts and
longer digit runs stay as typed."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from accounts.personal_data import mask_phone
from areas.models import Area
from core.free_text import REDACTED, redact_free_text
from households import importing, services
from households.models import FollowUpAction, Grievance, TransferRequest
from signoff import services as signoff_services
from signoff.models import SignoffStep
from tests.factories import AreaFactory
from tests.world import ID_A, World, build_world

pytestmark = pytest.mark.django_db
MOBILE = "15012345678"  # not the world's household phone, which its staff see in full
LANDLINE = "0738-8312345"


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_world()
        transaction.set_rollback(True)


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("电话13812345678。", "电话138****5678。"),
        ("手机 138 1234 5678 联系", "手机 138****5678 联系"),
        ("138-1234-5678", "138****5678"),
        ("tel:+86 13912345678", "tel:+86 139****5678"),
        ("座机0738-8312345", "座机073*****2345"),
        ("（0738）8312345", "073*****2345"),
        ("07388312345", "073****2345"),
        ("１３８１２３４５６７８", "１３８****５６７８"),
        (f"户主{ID_A}，电话{MOBILE}", f"户主{REDACTED}，电话150****5678"),
    ],
)
def test_phones_in_text_are_masked_as_the_phone_field_is(typed: str, shown: str):
    assert redact_free_text(typed) == shown
    assert redact_free_text(shown) == shown  # masking twice changes nothing


def test_the_mask_is_the_phone_fields_mask():
    assert redact_free_text(MOBILE) == mask_phone(MOBILE) == "150****5678"
    assert redact_free_text(LANDLINE) == mask_phone(LANDLINE)


@pytest.mark.parametrize(
    "kept",
    [
        "2026年12月4日（20261204）核实",
        "补助 13000.00 元",
        "金额13812345678.50元",
        "卡号 6222021234567890123",
        "编号 13812345678901",
        "户编号 HH13812345678",
        "2026-12-04 入户",
        "共 13 户 1234 人",
    ],
)
def test_dates_amounts_and_longer_numbers_stay_as_typed(kept: str):
    assert redact_free_text(kept) == kept


def test_services_api_pages_and_exports_show_masked_phones(world: World, tmp_path: Path):
    staff = world.a.users["village"]
    action = services.action_create(
        actor=staff,
        data={"description": f"联系其子女 {MOBILE}", "owner": "李四", "visit_note": f"村委电话 {LANDLINE}"},
        household=world.a.household,
    )
    assert action.description == "联系其子女 150****5678"
    assert action.visit_note == "村委电话 073*****2345"
    grievance = services.grievance_save(
        actor=staff,
        code="XFP900",
        village_code=world.a.village.code,
        data={"received_on": world.a.grievance.received_on, "status": "办理中", "content": "来电 139-1234-5678"},
    )
    assert grievance.content == "来电 139****5678"
    api = APIClient()
    api.force_authenticate(staff)
    created = api.post(
        "/api/v1/actions/",
        {"household": world.a.household.code, "description": f"回访 {MOBILE}", "owner": "王"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert MOBILE not in created.content.decode()
    shown = api.get(f"/api/v1/actions/{created.json()['code']}/").json()
    assert shown["description"] == "回访 150****5678"
    page = Client()
    page.force_login(staff)
    body = page.get(f"/households/{world.a.household.code}/").content.decode()
    assert "150****5678" in body
    assert MOBILE not in body
    exported = tmp_path / "actions.csv"
    importing.export_kind("actions", exported)
    text = exported.read_text(encoding="utf-8-sig")
    assert "150****5678" in text
    assert MOBILE not in text
    for model in (FollowUpAction, Grievance):
        stored = " ".join(str(value) for value in model.objects.values_list(flat=False))
        assert MOBILE not in stored
        assert "8312345" not in stored


def test_transfer_reason_and_signoff_note_mask_phones(world: World):
    request = services.transfer_request_file(
        actor=world.a.users["township"],
        household=world.a.household,
        village_code=_other_township_village(world).code,
        reason=f"投靠子女，电话{MOBILE}",
    )
    assert request.reason == "投靠子女，电话150****5678"
    signoff_services.submit(world.a.users["village"], world.a.village, "2026-11", note=f"有疑问请拨 {LANDLINE}")
    assert SignoffStep.objects.get(village_month__village=world.a.village).note == "有疑问请拨 073*****2345"


def test_the_sweep_masks_phones_stored_before(world: World):
    FollowUpAction.objects.filter(pk=world.a.action.pk).update(visit_note=f"旧台账：{MOBILE}")
    Grievance.objects.filter(pk=world.a.grievance.pk).update(handling=f"已电话联系 {LANDLINE}，20261204 办结")
    TransferRequest.objects.update(reason=f"电话 {MOBILE}")
    call_command("redact_free_text", stdout=_Quiet())
    assert FollowUpAction.objects.get(pk=world.a.action.pk).visit_note == "旧台账：150****5678"
    assert Grievance.objects.get(pk=world.a.grievance.pk).handling == "已电话联系 073*****2345，20261204 办结"
    assert all(MOBILE not in reason for reason in TransferRequest.objects.values_list("reason", flat=True))


def _other_township_village(world: World) -> Area:
    return AreaFactory.village(code=f"{world.a.county.code}009001", name="外镇村")


class _Quiet:
    def write(self, text: str) -> None:
        pass

    def flush(self) -> None:
        pass
