"""How the 年度考核通报's numbers read — one set of functions for the PDF, the xlsx and the assessment
pages, so a figure reads the same wherever a person checks it (issue 19).

- a score: half-up to 2 decimals (``52.26``), from the stored exact fraction;
- a rate: 1 decimal and ``%`` (``91.6%``), rounded down as on the dashboards, so an unmet 99.96 %
  never reads 100.0 %;
- a pp gap: ``2.3 个百分点``, rounded down likewise;
- a count: whole.

Exact fractions (``47713/913``) are never shown to a reader; only the xlsx keeps them, in columns
headed ``…精确值（审计用）``, so an auditor can re-check each rounding.
"""

import datetime
import math
from decimal import Decimal
from fractions import Fraction

from indicators.engine.judging import round_half_up
from indicators.models import Kind

DASH = "—"
AUDIT_SUFFIX = "精确值（审计用）"
_DIGITS = "〇一二三四五六七八九"


def _fraction(value: Fraction | Decimal | str | None) -> Fraction | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, Fraction) else Fraction(value)


def score_decimal(value: Fraction | Decimal | str | None) -> Decimal | None:
    """A score half-up to 2 decimals; None when there is none."""
    fraction = _fraction(value)
    return None if fraction is None else round_half_up(fraction, 2)


def score_text(value: Fraction | Decimal | str | None) -> str:
    """``52.26``; ``—`` when the unit is not scored."""
    decimal = score_decimal(value)
    return DASH if decimal is None else format(decimal, "f")


def _tenths_down(value: Fraction) -> str:
    tenths = math.floor(value * 10)
    sign = "-" if tenths < 0 else ""
    whole, tenth = divmod(abs(tenths), 10)
    return f"{sign}{whole}.{tenth}"


def value_number(kind: str, value: Fraction | Decimal | str | None) -> Decimal | None:
    """The shown value as a number (rates and pp to 1 decimal, rounded down; counts whole)."""
    fraction = _fraction(value)
    if fraction is None:
        return None
    if kind in (Kind.RATE, Kind.GAP_PP):
        return Decimal(_tenths_down(fraction))
    return Decimal(math.floor(fraction))


def value_text(kind: str, value: Fraction | Decimal | str | None) -> str:
    """An indicator value: ``91.6%``, ``2.3 个百分点``, ``12``; ``—`` when not applicable."""
    fraction = _fraction(value)
    if fraction is None:
        return DASH
    if kind == Kind.RATE:
        return f"{_tenths_down(fraction)}%"
    if kind == Kind.GAP_PP:
        return f"{_tenths_down(fraction)} 个百分点"
    if fraction.denominator == 1:
        return str(fraction.numerator)
    return format(round_half_up(fraction, 2), "f")


def target_text(kind: str, target: Fraction | Decimal | str | None) -> str:
    """A target: ``100%``, ``92.5%``, ``2 个百分点``, ``0``; whole targets without decimals."""
    fraction = _fraction(target)
    if fraction is None:
        return DASH
    number = str(fraction.numerator) if fraction.denominator == 1 else format(round_half_up(fraction, 1), "f")
    if kind == Kind.RATE:
        return f"{number}%"
    if kind == Kind.GAP_PP:
        return f"{number} 个百分点"
    return number


def chinese_year(year: int) -> str:
    return "".join(_DIGITS[int(digit)] for digit in str(year))


def _chinese_small(number: int) -> str:
    """1–31 as written in a date: 五, 十, 十二, 二十, 三十一."""
    tens, units = divmod(number, 10)
    text = ("" if tens == 1 else _DIGITS[tens]) + "十" if tens else ""
    return text + (_DIGITS[units] if units or not tens else "")


def chinese_date(date: datetime.date) -> str:
    """The 成文日期 in Chinese numerals: ``二〇二六年一月五日``."""
    return f"{chinese_year(date.year)}年{_chinese_small(date.month)}月{_chinese_small(date.day)}日"
