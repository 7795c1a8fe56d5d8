"""Validators shared by forms, imports and the API. Each raises ``ValidationError`` with a message
in Chinese that says how to fix the value (the UI language can translate it)."""

import datetime
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .choices import AreaLevel, Sex

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
TRUNCATED_RE = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
LEVEL_DIGITS = {AreaLevel.CITY: 6, AreaLevel.COUNTY: 6, AreaLevel.TOWNSHIP: 9, AreaLevel.VILLAGE: 12}
PARENT_LEVEL = {
    AreaLevel.COUNTY: AreaLevel.CITY,
    AreaLevel.TOWNSHIP: AreaLevel.COUNTY,
    AreaLevel.VILLAGE: AreaLevel.TOWNSHIP,
}


def id_check_digit(first17: str) -> str:
    total = sum(int(digit) * weight for digit, weight in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def looks_truncated_by_excel(value: str) -> bool:
    """True for what Excel makes of an 18-digit number: ``4.31302E+17`` or digits padded with zeros."""
    text = value.strip()
    if TRUNCATED_RE.match(text):
        return True
    return bool(re.fullmatch(r"\d{16}0{2}|\d{15}0{3}", text)) and id_check_digit(text[:17]) != text[17]


def normalise_id_number(value: str) -> str:
    return str(value).strip().replace(" ", "").upper()


def validate_id_number(value: str, *, today: datetime.date | None = None) -> str:
    """Check a GB 11643 resident ID; return it normalised (upper-case ``X``)."""
    id_number = normalise_id_number(value)
    if looks_truncated_by_excel(id_number):
        raise ValidationError(
            _("身份证号“%(value)s”已被 Excel 当作数字截断：请把该列设置为“文本”格式后重新输入完整的 18 位号码。"),
            code="id_truncated",
            params={"value": id_number},
        )
    if not re.fullmatch(r"\d{17}[\dX]", id_number):
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
    if birth > (today or datetime.date.today()):
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
    phone = str(value).strip().replace(" ", "")
    if not phone:
        return ""
    if MOBILE_RE.match(phone) or LANDLINE_RE.match(phone):
        return phone
    raise ValidationError(
        _("联系电话应为 11 位手机号（如 13812345678）或带区号的固定电话（如 0738-8312345）。"), code="phone"
    )


def normalise_area_code(code: str, level: str) -> str:
    """A 12-digit code ending in 000 / 000000 given for a 乡镇 / 县 (or 市) means its 9 / 6 digit form."""
    text = str(code).strip()
    want = LEVEL_DIGITS[level]
    if len(text) == 12 and want < 12 and text.endswith("0" * (12 - want)):
        return text[:want]
    return text


def validate_area_code(code: str, level: str) -> str:
    text = normalise_area_code(code, level)
    if not text.isdigit() or len(text) != LEVEL_DIGITS[level]:
        raise ValidationError(
            _("%(level)s的区划代码应为 %(digits)s 位数字（或以 0 补足的 12 位），请核对。"),
            code="area_code",
            params={"level": level, "digits": LEVEL_DIGITS[level]},
        )
    return text


def validate_area_parent(level: str, parent_level: str | None) -> None:
    expected = PARENT_LEVEL.get(level)
    if expected is None:
        if parent_level is not None:
            raise ValidationError(_("“市”级区划不能有上级代码，请清空上级代码。"), code="area_parent")
        return
    if parent_level != expected:
        raise ValidationError(
            _("%(level)s的上级必须是%(expected)s级区划，请填写正确的上级代码。"),
            code="area_parent",
            params={"level": level, "expected": expected},
        )
