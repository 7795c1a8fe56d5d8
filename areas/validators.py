"""Area codes: digits per level, the parent one level up, and the parent's code as prefix."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from areas.choices import AreaLevel
from core.text import normalise_text

# Keyed by the level value: AreaLevel members are str and hash as their value, so a plain level
# string read from a row or a model field looks them up.
LEVEL_DIGITS: dict[str, int] = {AreaLevel.CITY: 6, AreaLevel.COUNTY: 6, AreaLevel.TOWNSHIP: 9, AreaLevel.VILLAGE: 12}


PARENT_LEVEL: dict[str, AreaLevel] = {
    AreaLevel.COUNTY: AreaLevel.CITY,
    AreaLevel.TOWNSHIP: AreaLevel.COUNTY,
    AreaLevel.VILLAGE: AreaLevel.TOWNSHIP,
}


def normalise_area_code(code: str, level: str) -> str:
    """A 12-digit code ending in 000 / 000000 given for a 乡镇 / 县 (or 市) means its 9 / 6 digit form."""
    text = normalise_text(code)
    want = LEVEL_DIGITS[level]
    if len(text) == 12 and want < 12 and text.endswith("0" * (12 - want)):
        return text[:want]
    return text


def validate_area_code(code: str, level: str) -> str:
    text = normalise_area_code(code, level)
    if not re.fullmatch(r"[0-9]+", text) or len(text) != LEVEL_DIGITS[level]:
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


def area_code_prefix(parent_code: str, parent_level: str) -> str:
    """The digits every child code starts with: the city's 4 (431300 → 4313), else the whole code."""
    return parent_code[:4] if parent_level == AreaLevel.CITY else parent_code


def validate_area_code_prefix(code: str, parent_code: str | None, parent_level: str | None) -> None:
    """An area's code starts with its parent's (4313 → 431322 → 431322101 → 431322101001): a township
    cannot create a village carrying another county's prefix. The message names no other area."""
    if parent_code and parent_level and not code.startswith(area_code_prefix(parent_code, parent_level)):
        raise ValidationError(
            _("区划代码“%(code)s”应以上级区划代码开头（如村的 12 位代码以所属乡镇的 9 位代码开头），请核对。"),
            code="area_code_prefix",
            params={"code": code},
        )
