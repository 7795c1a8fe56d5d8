"""Judging: one unit's value of an indicator from its counts, and whether it meets its target.

``met`` is decided with exact fractions (``fractions.Fraction``, or the same arithmetic in integers
on the hot path), so that 80 % and 2.0 pp boundaries are exact; values are stored rounded half up
with their exact fraction beside them.
"""

import math
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from indicators.catalogue import BY_CODE
from indicators.models import Kind, Met

HUNDRED = Fraction(100)
M9_1_KEYS = ("finance.cur.proceeds_to_households", "finance.cur.asset_proceeds")  # its numerator, denominator
PLACES = 10


@dataclass
class Judged:
    numerator: int | None
    denominator: int | None
    value: Fraction | None
    target: Decimal | None
    met: str


def _growth(counter: Counter, prefix: str, part_total: str, part_base: str) -> Fraction | None:
    """I(Y)/I(Y−1) − 1 style ratio of ratios; None when a year is missing or a base is 0."""
    ratio = _growth_ratio(counter, prefix, part_total, part_base)
    return None if ratio is None else Fraction(*ratio)


def _growth_ratio(counter: Counter, prefix: str, part_total: str, part_base: str) -> tuple[int, int] | None:
    """``_growth`` as (numerator, denominator), not in lowest terms: (ct/cb) / (pt/pb) − 1."""
    get = counter.get
    if not get(f"{prefix}.cur.rows") or not get(f"{prefix}.prev.rows"):
        return None
    current_base, previous_base = get(f"{prefix}.cur.{part_base}", 0), get(f"{prefix}.prev.{part_base}", 0)
    if not current_base or not previous_base:
        return None
    current_total, previous_total = get(f"{prefix}.cur.{part_total}", 0), get(f"{prefix}.prev.{part_total}", 0)
    if previous_total == 0:
        return None
    return current_total * previous_base - current_base * previous_total, current_base * previous_total


def income_gap_cells(counter: Counter, city_growth: Fraction | None, target: Decimal | None) -> tuple[Any, ...]:
    """M3-5's cells, ``cells_of(judge("M3-5", …))``, in integers: growth × 100 − the city's growth
    as one ratio. Every unit has its own incomes, so nothing is shared; Fraction arithmetic on
    65,000 units costs ~0.5 s."""
    ratio = _growth_ratio(counter, "income", "total", "size")
    if ratio is None or city_growth is None:
        return (None, None, None, "", target, Met.NA)
    numerator = ratio[0] * 100 * city_growth.denominator - city_growth.numerator * ratio[1]
    denominator = ratio[1] * city_growth.denominator
    if denominator < 0:  # never for incomes (Fraction would move the sign)
        return cells_of(_judge_gap(Fraction(numerator, denominator), target))
    return _ratio_cells(numerator, denominator, target)


def _finance_growth(counter: Counter, name: str) -> Fraction | None:
    if not counter["finance.cur.rows"] or not counter["finance.prev.rows"]:
        return None
    previous = counter[f"finance.prev.{name}"]
    if previous == 0:
        return None
    return Fraction(counter[f"finance.cur.{name}"], previous) - 1


def judge(
    code: str,
    counter: Counter,
    *,
    city_growth: Fraction | None,
    previous_count: int | None,
) -> Judged:
    """One indicator's stored numbers for one unit (indicators.md, Kinds of target and Precise readings)."""
    entry = BY_CODE[code]
    target = entry.target
    if code == "M9-1":
        numerator, denominator = (counter[key] for key in M9_1_KEYS)
        return _judge_rate(numerator, denominator, target)
    if code == "M9-2":
        linkage = _finance_growth(counter, "linkage_to_relocation")
        total = _finance_growth(counter, "linkage_funds")
        if linkage is None or total is None:
            return Judged(None, None, None, target, Met.NA)
        return _judge_gap((linkage - total) * HUNDRED, target)
    if code == "M3-5":
        growth = _growth(counter, "income", "total", "size")
        if growth is None or city_growth is None:
            return Judged(None, None, None, target, Met.NA)
        return _judge_gap(growth * HUNDRED - city_growth, target)
    if entry.kind == Kind.RATE:
        return _judge_rate(counter[f"{code}.n"], counter[f"{code}.d"], target)
    count = counter[f"{code}.n"]
    if entry.kind == Kind.INFO:
        return Judged(count, None, Fraction(count), None, Met.NA)
    if entry.kind == Kind.ZERO:
        if not counter["households"]:
            return Judged(count, None, None, target, Met.NA)
        return Judged(count, None, Fraction(count), target, Met.TRUE if count == 0 else Met.FALSE)
    # no_decrease
    if previous_count is None:
        return Judged(count, None, None, None, Met.NA)
    if not counter["labour_force"]:
        return Judged(count, None, None, Decimal(previous_count), Met.NA)
    met = Met.TRUE if count >= previous_count else Met.FALSE
    return Judged(count, None, Fraction(count), Decimal(previous_count), met)


BARS: dict[Decimal | None, tuple[int, int]] = {}  # each target as numerator and denominator, made once


def _bar(target: Decimal | None) -> tuple[int, int]:
    bar = BARS.get(target)
    if bar is None:
        exact = Fraction(target or 0)
        bar = BARS[target] = (exact.numerator, exact.denominator)
    return bar


def _at_least(value: Fraction, target: Decimal | None) -> bool:
    bar = _bar(target)
    return value.numerator * bar[1] >= bar[0] * value.denominator


def _judge_rate(numerator: int, denominator: int, target: Decimal | None) -> Judged:
    if not denominator:
        return Judged(numerator, denominator, None, target, Met.NA)
    value = Fraction(numerator * 100, denominator)
    return Judged(numerator, denominator, value, target, Met.TRUE if _at_least(value, target) else Met.FALSE)


def _judge_gap(value: Fraction, target: Decimal | None) -> Judged:
    return Judged(None, None, value, target, Met.TRUE if _at_least(value, target) else Met.FALSE)


def round_half_up(value: Fraction, places: int = PLACES) -> Decimal:
    """Round an exact fraction half away from zero to ``places`` decimals, exactly."""
    return _round_ratio(value.numerator, value.denominator, places)


def _round_ratio(numerator: int, denominator: int, places: int = PLACES) -> Decimal:
    """``round_half_up(Fraction(numerator, denominator))`` in integers (Fraction arithmetic costs 10x
    more per value); the ratio need not be in lowest terms."""
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    quotient, remainder = divmod(abs(numerator) * 10**places, denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    result = Decimal(quotient).scaleb(-places)
    return -result if numerator < 0 else result


def _ratio_cells(
    value_numerator: int,
    value_denominator: int,
    target: Decimal | None,
    numerator: int | None = None,
    denominator: int | None = None,
) -> tuple[Any, ...]:
    """The cells of the exact value ``value_numerator / value_denominator`` (a positive denominator,
    not necessarily in lowest terms) judged against ``target``, in integers."""
    bar = _bar(target)
    met = Met.TRUE if value_numerator * bar[1] >= bar[0] * value_denominator else Met.FALSE
    common = math.gcd(value_numerator, value_denominator)
    text = f"{value_numerator // common}/{value_denominator // common}"
    return (numerator, denominator, _round_ratio(value_numerator, value_denominator), text, target, met)


def rate_cells(numerator: int, denominator: int, target: Decimal | None) -> tuple[Any, ...]:
    """``cells_of(_judge_rate(numerator, denominator, target))`` in integers: the same cells without
    a Fraction, whose type checks in each operation cost ~1 s per national recompute."""
    if not denominator:
        return (numerator, denominator, None, "", target, Met.NA)
    if denominator < 0:  # never for counts and amounts (Fraction would move the sign)
        return cells_of(_judge_rate(numerator, denominator, target))
    return _ratio_cells(numerator * 100, denominator, target, numerator, denominator)


def fraction_text(value: Fraction | None) -> str:
    return "" if value is None else f"{value.numerator}/{value.denominator}"


def cells_of(judged: Judged) -> tuple[Any, ...]:
    value = None if judged.value is None else round_half_up(judged.value)
    return (judged.numerator, judged.denominator, value, fraction_text(judged.value), judged.target, judged.met)
