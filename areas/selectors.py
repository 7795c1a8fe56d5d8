"""Reads over the area tree. ``within`` is the one subtree filter: registry records, stored values and
areas all carry their area path denormalised (``county_code``, ``township_code``, ``village_code``),
so "inside this area" is one indexed equality, never a walk down the tree."""

from django.db.models import Q

from areas.choices import AreaLevel
from areas.models import Area

# The path field that names an area of each level on the records below it.
PATH_FIELDS: dict[str, str] = {
    AreaLevel.COUNTY: "county_code",
    AreaLevel.TOWNSHIP: "township_code",
    AreaLevel.VILLAGE: "village_code",
}


def within(area: Area | None, prefix: str = "", *, areas: bool = False) -> Q:
    """The records inside ``area``'s subtree; the whole city for a 市 or None.

    ``prefix`` reaches the path through a relation (``"household__"``). With ``areas=True`` the rows
    are areas themselves: an area carries its parents' path, not its own code (and no
    ``village_code``), so the area itself is matched by ``code``."""
    if area is None or area.level == AreaLevel.CITY:
        return Q()
    if not areas:
        return Q(**{f"{prefix}{PATH_FIELDS[area.level]}": area.code})
    own = Q(**{f"{prefix}code": area.code})
    if area.level == AreaLevel.VILLAGE:
        return own
    return own | Q(**{f"{prefix}{PATH_FIELDS[area.level]}": area.code})
