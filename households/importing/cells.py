"""Cell parsers for the import templates (data.md, "Conventions for every template").

Each parser takes a non-blank cell (text, or a ``date`` from a real Excel date cell) and returns the
stored value, or raises ``CellError`` with a Chinese reason that says how to fix the cell.
"""

import datetime
import re
import time
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.utils import timezone

from areas.validators import normalise_area_code, validate_area_code
from core.free_text import redact_id_numbers
from core.spreadsheet import FORMULA_PREFIXES
from core.text import normalise_text
from households.validators import (
    AREA_CODE_RE,
    DATE_FLOOR,
    validate_chosen_action_code,
    validate_due_date,
    validate_household_size,
    validate_indicator_code,
    validate_past_date,
    validate_record_code,
)

YES = frozenset({"是", "y", "yes", "1", "true", "√", "✓", "✔", "t"})
NO = frozenset({"否", "n", "no", "0", "false", "×", "f"})
DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]0{1,2}:0{2}(?::0{2})?)?$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})(?: 0{1,2}:0{2}(?::0{2})?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
MONEY_RE = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d{1,2})?$")
MAX_YUAN = 10**12


class CellError(Exception):
    """A cell that cannot be read; ``str(error)`` is the reason shown to the user."""


_today: list[Any] = [0.0, None]


def today() -> datetime.date:
    """``timezone.localdate()``, read again at most once a second: the import checks hundreds of
    thousands of dates against today, and each ``localdate`` call costs ~10 µs (the current time zone
    is looked up through asgiref's context-local)."""
    now = time.monotonic()
    if _today[1] is None or now - _today[0] > 1.0:
        _today[0], _today[1] = now, timezone.localdate()
    return cast(datetime.date, _today[1])


def text_of(value: Any) -> str:
    """The cell as text (a date cell as ``YYYY-MM-DD``); a CSV ``'=…`` guard written by our export is removed."""
    if type(value) is str:  # the common cell, read once per column of every row
        stripped = value.strip()
        if stripped[:1] != "'":
            return stripped
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_PREFIXES:
        return text[1:]
    return text


def parse_text(value: Any) -> str:
    return text_of(value)


def free_text(value: Any) -> str:
    """A typed note or content: an ID number pasted into it is dropped, as the services do."""
    return redact_id_numbers(text_of(value))


def number_text(value: Any) -> str:
    """An ID, code or number cell as text, normalised once (``validators.normalise_text``)."""
    return normalise_text(text_of(value))


BOOLS = {**dict.fromkeys(YES, True), **dict.fromkeys(NO, False), "Y": True, "N": False}


def parse_bool(value: Any) -> bool:
    known = BOOLS.get(value) if type(value) is str else None  # 是/否 as typed: no normalising needed
    if known is not None:
        return known
    text = number_text(value).lower()
    if text in YES:
        return True
    if text in NO:
        return False
    raise CellError("请填写“是”或“否”（也可写 Y/N、1/0、true/false，或用 √ 表示是、留空表示否）。")


def parse_date(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = number_text(value)
    for pattern in DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            try:
                return datetime.date(*(int(part) for part in match.groups()))
            except ValueError:
                break
    raise CellError("日期无法识别，请写成 2026-03-05、2026/3/5、2026年3月5日 或 20260305，或使用 Excel 日期格式。")


def parse_money(value: Any) -> int:
    """Yuan with up to 2 decimals (``12,345.50`` accepted) → whole fen."""
    text = number_text(value).replace("，", ",").replace(" ", "")
    if text.startswith("-"):
        raise CellError("金额不能为负数，请填写 0 或正数（单位：元）。")
    if not MONEY_RE.match(text):
        raise CellError("金额应为以元为单位的数字，最多两位小数（如 12345.50 或 12,345.50）。")
    amount = Decimal(text.replace(",", ""))
    if amount >= MAX_YUAN:
        raise CellError("金额过大，请核对单位是否为元。")
    return int(amount * 100)


def parse_percent(value: Any) -> Decimal:
    """``6.1`` or ``6.1%`` both mean 6.1 %; up to 4 decimals."""
    text = number_text(value).replace(" ", "").removesuffix("%").removesuffix("％")
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise CellError("增长率应为百分数，如 6.1 或 6.1%。") from None
    exponent = number.as_tuple().exponent  # an int for a finite number ("n", "N" or "F" otherwise)
    if not number.is_finite() or abs(number) >= 1000 or (isinstance(exponent, int) and exponent < -4):
        raise CellError("增长率应为百分数（如 6.1 或 6.1%），最多 4 位小数。")
    return number


def format_decimal(number: Decimal) -> str:
    text = format(number.normalize(), "f")
    return text


def int_parser(low: int, high: int | Callable[[], int], what: str) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        text = number_text(value)
        top = high() if callable(high) else high
        if not re.fullmatch(r"[0-9]{1,9}", text) or not low <= int(text) <= top:
            raise CellError(f"{what}应为 {low}–{top} 之间的整数。")
        return int(text)

    return parse


def choice_parser(values: Iterable[str]) -> Callable[[Any], str]:
    allowed = tuple(values)
    canonical = {value: value for value in allowed}

    def parse(value: Any) -> str:
        known = canonical.get(value) if type(value) is str else None
        if known is not None:
            return known  # the choice's own string: one object shared by every row
        text = text_of(value)
        if text not in allowed:
            raise CellError(f"只能填写以下之一：{'、'.join(allowed)}。")
        return text

    return parse


def area_code_parser(level: str) -> Callable[[Any], str]:
    """An area code of a known level; a 12-digit code padded with zeros means the shorter form."""

    def parse(value: Any) -> str:
        try:
            return validate_area_code(number_text(value), level)
        except ValidationError as error:
            raise CellError(error.messages[0]) from None

    return parse


def any_area_code(value: Any) -> str:
    """An area code of unknown level (迁出地代码): 6, 9 or 12 digits; lookups try the padded forms."""
    text = number_text(value)
    if not AREA_CODE_RE.fullmatch(text):
        raise CellError("区划代码应为 6、9 或 12 位数字，请核对。")
    return text


def area_code_candidates(code: str) -> list[str]:
    """The forms a code may be stored as, most specific first (``431321101000`` → also ``431321101``)."""
    forms = [code]
    for level in ("乡镇", "县"):
        short = normalise_area_code(code, level)
        if short not in forms:
            forms.append(short)
    return forms


def max_length(limit: int, *, redact: bool = False) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = free_text(value) if redact else text_of(value)
        if len(text) > limit:
            raise CellError(f"内容过长：最多 {limit} 个字符，现有 {len(text)} 个。")
        return text

    return parse


def _checked(validator: Callable[[Any], Any], value: Any) -> Any:
    try:
        return validator(value)
    except ValidationError as error:
        raise CellError(error.messages[0]) from None


def record_code(value: Any) -> str:
    """A 户编号, 安置点编码, 事项编号 or 台账编号 (key or reference): normalised, URL-safe ASCII."""
    return _checked(validate_record_code, text_of(value))


def past_date(value: Any) -> datetime.date:
    """A date something happened: 2000-01-01 to today."""
    day = parse_date(value)
    if DATE_FLOOR <= day <= today():
        return day
    _checked(validate_past_date, day)
    return day


def due_date(value: Any) -> datetime.date:
    day = parse_date(value)
    _checked(validate_due_date, day)
    return day


def household_size(value: Any) -> int:
    text = number_text(value)
    if not re.fullmatch(r"[0-9]{1,9}", text):
        _checked(validate_household_size, 0)
    _checked(validate_household_size, int(text))
    return int(text)


def indicator_code(value: Any) -> str:
    return _checked(validate_indicator_code, text_of(value))


def reserved_action_code(code: str) -> str | None:
    """The reason a new 台账编号 cannot be chosen by hand, or None."""
    try:
        validate_chosen_action_code(code)
    except ValidationError as error:
        return error.messages[0]
    return None
