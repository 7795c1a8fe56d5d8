"""Validators shared by forms, imports and the API. Each raises ``ValidationError`` with a message
in Chinese that says how to fix the value (the UI language can translate it)."""

import datetime
import re
from collections.abc import Callable, Iterable
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from core.text import normalise_text
from households.choices import Sex

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$")
LANDLINE_RE = re.compile(r"^0[0-9]{2,3}-?[0-9]{7,8}$")
TRUNCATED_RE = re.compile(r"^[0-9](\.[0-9]+)?[eE]\+?[0-9]+$")


# Record codes (户编号, 安置点编码, 事项编号, 台账编号) end up in URLs and file names: ASCII letters,
# digits, "-" and "_" only (the worked example uses H01, S1, G1, TZ2025-001).
RECORD_CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}", re.ASCII)
# The pattern of automatic 台账编号 (TZ + date + sequence number): reserved, never chosen by hand.
AUTOMATIC_ACTION_CODE_RE = re.compile(r"TZ20[0-9]{2}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])[0-9]{4,}", re.ASCII)
AREA_CODE_RE = re.compile(r"[0-9]{6}|[0-9]{9}|[0-9]{12}", re.ASCII)
# Casework dates (petitions, actions, employment checks, training) cannot predate the programme.
DATE_FLOOR = datetime.date(2000, 1, 1)
DUE_DATE_HORIZON_DAYS = 2 * 366
HOUSEHOLD_SIZE_MAX = 99


def validate_record_code(value: Any) -> str:
    """A 户编号, 安置点编码, 事项编号 or 台账编号, normalised; refused unless URL-safe ASCII."""
    code = normalise_text(value)
    if not RECORD_CODE_RE.fullmatch(code):
        raise ValidationError(
            _("编号只能由英文字母、数字、“-”和“_”组成（最多 40 位，以字母或数字开头），如 H01、TZ2025-001，请修改。"),
            code="record_code",
        )
    return code


def validate_chosen_action_code(value: Any) -> str:
    """A 台账编号 typed by a user: a record code that does not take the automatic pattern."""
    code = validate_record_code(value)
    if AUTOMATIC_ACTION_CODE_RE.fullmatch(code):
        raise ValidationError(
            _(
                "“TZ+日期+序号”格式的台账编号由系统自动生成，不能手工填写："
                "请留空由系统生成，或改用其他编号（如 TZ2025-001）。"
            ),
            code="action_code_reserved",
        )
    return code


def validate_past_date(value: datetime.date | None) -> None:
    """A date something happened (受理、办结、完成、就业核实、培训): 2000-01-01 to today."""
    if value is None:
        return
    today = timezone.localdate()
    if value > today:
        raise ValidationError(
            _("日期 %(value)s 晚于今天，请填写已经发生的日期。"),
            code="date_future",
            params={"value": value.isoformat()},
        )
    if value < DATE_FLOOR:
        raise ValidationError(
            _("日期 %(value)s 早于 2000-01-01，请核对年份。"), code="date_floor", params={"value": value.isoformat()}
        )


def validate_due_date(value: datetime.date | None) -> None:
    """A deadline (期限): from 2000-01-01 to two years ahead."""
    if value is None:
        return
    horizon = timezone.localdate() + datetime.timedelta(days=DUE_DATE_HORIZON_DAYS)
    if value > horizon or value < DATE_FLOOR:
        raise ValidationError(
            _("期限 %(value)s 不合理：应在 2000-01-01 至 %(horizon)s 之间，请核对年份。"),
            code="due_date_range",
            params={"value": value.isoformat(), "horizon": horizon.isoformat()},
        )


def validate_household_size(value: int | None) -> None:
    if value is not None and not 1 <= value <= HOUSEHOLD_SIZE_MAX:
        raise ValidationError(
            _("家庭人口数应为 1–%(max)s 之间的整数，请核对。"),
            code="household_size",
            params={"max": HOUSEHOLD_SIZE_MAX},
        )


# The indicator codes an action may name. ``indicators`` fills this from its catalogue in
# ``IndicatorsConfig.ready()``: the registry never imports measurement.
INDICATOR_CODES: set[str] = set()


def indicator_codes_register(codes: Iterable[str]) -> None:
    INDICATOR_CODES.update(codes)


def indicator_codes() -> frozenset[str]:
    return frozenset(INDICATOR_CODES)


def validate_indicator_code(value: Any) -> str:
    """The 指标代码 of a follow-up action: blank, or a code of the catalogue (``M3-2``)."""
    code = normalise_text(value or "")
    if code and code not in indicator_codes():
        raise ValidationError(_("指标代码应为指标目录中的代码（如 M3-2），或留空，请核对。"), code="indicator_code")
    return code


# A field's validators (model, form, API): Django and DRF discard a validator's return value, and the
# stubs type one ``-> None``; these return the normalised code for the services and importers that
# call them directly. The lists hold the same functions, so fields and their migrations are unchanged.
FieldValidator = Callable[[Any], None]
RECORD_CODE_VALIDATORS = cast("list[FieldValidator]", [validate_record_code])
CHOSEN_ACTION_CODE_VALIDATORS = cast("list[FieldValidator]", [validate_chosen_action_code])
INDICATOR_CODE_VALIDATORS = cast("list[FieldValidator]", [validate_indicator_code])


def id_check_digit(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def looks_truncated_by_excel(value: str) -> bool:
    """True for what Excel makes of an 18-digit number: ``4.31302E+17``, or the digits it kept padded
    with zeros (a float or integer cell read back) that cannot be a real ID — a wrong check digit, or
    a zeroed birth date (``431321000000000000`` happens to have the check digit ``0``)."""
    text = value.strip()
    if TRUNCATED_RE.match(text):
        return True
    if not re.fullmatch(r"[0-9]{16}0{2}|[0-9]{15}0{3}", text):
        return False
    return id_check_digit(text[:17]) != text[17] or id_birth_date(text) is None


def normalise_id_number(value: str) -> str:
    """The ID as its blind index is computed: normalised (``normalise_text``), no spaces, upper-case X."""
    return normalise_text(value).replace(" ", "").upper()


def validate_id_number(value: str, *, today: datetime.date | None = None) -> str:
    """Check a GB 11643 resident ID; return it normalised (upper-case ``X``)."""
    id_number = normalise_id_number(value)
    if looks_truncated_by_excel(id_number):
        raise ValidationError(
            _(
                "身份证号“%(value)s”已被 Excel 当作数字截断（只保留了 15 位有效数字）：请把该单元格设置为"
                "“文本”格式，或在号码前加英文单引号 '（如 '431302199001011234），再重新输入完整的 18 位号码。"
            ),
            code="id_truncated",
            params={"value": id_number},
        )
    if not re.fullmatch(r"[0-9]{17}[0-9X]", id_number):
        raise ValidationError(
            _("身份证号应为 18 位：前 17 位是数字，最后一位是数字或 X，请核对后重新输入。"), code="id_format"
        )
    if id_check_digit(id_number[:17]) != id_number[17]:
        raise ValidationError(
            _("身份证号校验位不正确（最后一位应为 %(expected)s），请核对号码是否抄错。"),
            code="id_check_digit",
            params={"expected": id_check_digit(id_number[:17])},
        )
    birth = id_birth_date(id_number)
    if birth is None:
        raise ValidationError(_("身份证号中的出生日期（第 7–14 位）不是真实日期，请核对号码。"), code="id_birth_date")
    if birth > (today or timezone.localdate()):
        raise ValidationError(_("身份证号中的出生日期在今天之后，请核对号码。"), code="id_birth_future")
    return id_number


def id_birth_date(id_number: str) -> datetime.date | None:
    try:
        return datetime.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    except ValueError:
        return None


def id_sex(id_number: str) -> str:
    """Digit 17 odd = male (GB 11643)."""
    return Sex.MALE if int(id_number[16]) % 2 else Sex.FEMALE


def age_on(birth_date: datetime.date, reference: datetime.date) -> int:
    """Whole years; a 29 February birthday falls on 1 March in common years."""
    years = reference.year - birth_date.year
    if (reference.month, reference.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def validate_phone(value: str) -> str:
    phone = normalise_text(value).replace(" ", "")
    if not phone:
        return ""
    if MOBILE_RE.match(phone) or LANDLINE_RE.match(phone):
        return phone
    raise ValidationError(
        _("联系电话应为 11 位手机号（如 13812345678）或带区号的固定电话（如 0738-8312345）。"), code="phone"
    )


def out_of_area_message(*, level: str, code: str, area_name: str) -> str:
    """An administrative division code that exists outside the user's area (issue 20). Division codes
    are public, so saying where it is not tells nothing; households, sites, persons and ID numbers
    keep the neutral "不存在" (access.md)."""
    return _("%(level)s代码“%(code)s”不在您的管辖范围（您管辖：%(area)s），请核对代码或联系上级调整。") % {
        "level": level,
        "code": code,
        "area": area_name,
    }
