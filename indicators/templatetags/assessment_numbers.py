"""The assessment pages' numbers, written by the same functions as the 通报 PDF and xlsx
(``indicators.assessment.formatting``): ``{{ unit.total_exact|score }}``,
``{{ i.value_exact|indicator_value:i.kind }}``, ``{{ i.target|indicator_target:i.kind }}``."""

from django import template

from indicators.assessment import formatting

register = template.Library()


@register.filter
def score(value: str | None) -> str:
    """A score half-up to 2 decimals; ``—`` when there is none."""
    return formatting.score_text(value or None)


@register.filter
def indicator_value(value: str | None, kind: str) -> str:
    """``91.6%``, ``2.3 个百分点``, a whole count; ``—`` when not applicable."""
    return formatting.value_text(kind, value or None)


@register.filter
def indicator_target(value: str | None, kind: str) -> str:
    return formatting.target_text(kind, value or None)
