"""Kinds register here; ``indicators`` adds its kinds from ``IndicatorsConfig.ready()`` so that
``households`` never imports ``indicators``."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Kind

KINDS: dict[str, "Kind"] = {}
ORDER = (
    "areas",
    "sites",
    "households",
    "persons",
    "incomes",
    "grievances",
    "actions",
    "finance",
    "citystats",
    "commendations",
)


def register(kind: "Kind") -> "Kind":
    KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> "Kind | None":
    from . import kinds  # noqa: F401  (registers the households kinds; cached after the first call)

    return KINDS.get(name)


def kind_names() -> list[str]:
    get_kind("")
    return [name for name in ORDER if name in KINDS] + sorted(set(KINDS) - set(ORDER))
