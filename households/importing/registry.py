"""Kinds register here: the registry's own from ``households.importing.kinds`` (imported by the
package), and ``indicators`` adds its kinds from ``IndicatorsConfig.ready()``, after these and in its
own order, so that ``households`` never names or imports ``indicators``."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from households.importing.base import Kind

KINDS: dict[str, "Kind"] = {}
ORDER = (
    "areas",
    "sites",
    "households",
    "persons",
    "incomes",
    "grievances",
    "actions",
)


def register(kind: "Kind") -> "Kind":
    KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> "Kind | None":
    return KINDS.get(name)


def kind_names() -> list[str]:
    return [name for name in ORDER if name in KINDS] + [name for name in KINDS if name not in ORDER]
