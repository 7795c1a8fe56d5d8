"""The roll-up: a village's counts summed into every area above it, rates never averaged.

Rates are derived later (``judging``) from the summed numerators and denominators of each area.
"""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from areas.choices import AreaLevel
from areas.models import Area
from indicators.engine.passes import Counts


@dataclass
class Tree:
    areas: dict[int, Mapping[str, Any]]  # id, code, name, level, parent_id, has_industrial_park
    ancestors: dict[int, list[int]]  # the area itself first, then its parent, … up to the city
    townships: dict[int, int | None]  # each area's township (itself for a township)
    county_codes: dict[int, str]  # each area's county code ("" above the counties)

    @classmethod
    def load(cls) -> "Tree":
        areas: dict[int, Mapping[str, Any]] = {
            area["id"]: area
            for area in Area.objects.values("id", "code", "name", "level", "parent_id", "has_industrial_park")
        }
        ancestors: dict[int, list[int]] = {}
        townships: dict[int, int | None] = {}
        county_codes: dict[int, str] = {}
        for area_id in areas:
            chain, current = [], area_id
            while current is not None and current not in chain:
                chain.append(current)
                current = areas[current]["parent_id"]
            ancestors[area_id] = chain
            levels = [areas[ancestor]["level"] for ancestor in chain]
            townships[area_id] = chain[levels.index(AreaLevel.TOWNSHIP)] if AreaLevel.TOWNSHIP in levels else None
            county_codes[area_id] = areas[chain[levels.index("县")]]["code"] if "县" in levels else ""
        return cls(areas=areas, ancestors=ancestors, townships=townships, county_codes=county_codes)

    def township_of(self, area_id: int) -> int | None:
        return self.townships.get(area_id)

    def township_code(self, area_id: int) -> str:
        township = self.townships.get(area_id)
        return "" if township is None else self.areas[township]["code"]


def roll_up(counts: Counts, tree: Tree) -> dict[int, Counter]:
    """Sum the village counts into every area above; add M2-4 (townships holding a site) and finance.

    Each area's own counts are added to it, then every area's total to its parent's once, deepest
    areas first: one addition per area instead of one per (area, ancestor)."""
    totals: dict[int, Counter] = {area_id: Counter() for area_id in tree.areas}
    for village_id, counter in counts.by_village.items():
        if village_id in totals:
            totals[village_id].update(counter)
    townships_with_site = {
        township for site in counts.sites if (township := tree.township_of(site["village_id"])) is not None
    }
    for township_id in townships_with_site:
        totals[township_id]["M2-4.d"] += 1
        totals[township_id]["M2-4.n"] += int(bool(tree.areas[township_id]["has_industrial_park"]))
    for county_id, counter in counts.by_county.items():
        if county_id in totals:
            totals[county_id].update(counter)
    for area_id in sorted(tree.areas, key=lambda area_id: len(tree.ancestors[area_id]), reverse=True):
        chain = tree.ancestors[area_id]
        if len(chain) > 1:
            totals[chain[1]].update(totals[area_id])
    return totals
