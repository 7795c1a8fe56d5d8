"""A realistic synthetic Loudi for demonstrations, tests and benchmarks (``manage.py seed_demo``).

Contract (interfaces.md): the real city, its county-level units and 89 townships from
``data/loudi-areas.csv``; 娄底经开区 (local code 431371) with two demo townships; generated villages;
sites at about one per 240 persons; households of about 3.55 persons with valid, unique GB 11643 ID
numbers; incomes, petitions, follow-up actions, finance, city statistics, commendations, monitoring
lines and one user per role. Each county has its own profile of imperfections so that some targets
are met and some are not.

The content is a function of ``seed`` and the reference date alone (ciphertexts differ: AES-GCM
nonces are random). Rows are generated and written in chunks of households and never all held in
memory: ids are assigned here, rows go out by COPY on PostgreSQL and ``executemany`` elsewhere, so
millions of households fit in a constant amount of memory. The seeded database must be empty.
"""

import csv
import datetime
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from accounts import personal_data
from areas.choices import AreaLevel
from areas.models import Area
from households.choices import (
    ActionKind,
    ActionStatus,
    Employment,
    GrievanceStatus,
    GrievanceTopic,
    HouseholdCategory,
    HousingHazard,
    Labour,
    Monitoring,
    RecordStatus,
    Relation,
    SafetyNet,
    Schooling,
    Sex,
    SiteKind,
)
from households.models import (
    FollowUpAction,
    Grievance,
    Household,
    Income,
    Person,
    Site,
)
from households.validators import age_on, id_check_digit
from indicators.models import CityStatistic, Commendation, CountyFinance, MonitoringLine

AREAS_CSV = Path(__file__).resolve().parent / "data" / "loudi-areas.csv"
DEFAULT_HOUSEHOLDS = 19_200
DEFAULT_SITES = 289  # at DEFAULT_HOUSEHOLDS: Loudi's 289 centralized sites
CHUNK_HOUSEHOLDS = 10_000
DEMO_PASSWORD = "Loudi-demo-2026"
KAIFAQU = "431371"  # 娄底经开区: no national code; "71" as other Hunan management zones
DISPERSED_SHARE = 0.05

# County-level units in a fixed order; share of households and of sites (新化县: 34,436 of 68,514
# persons and 124 of 289 sites in 2020).
COUNTIES = ("431302", "431321", "431322", "431381", "431382", KAIFAQU)
HOUSEHOLD_SHARE = (0.055, 0.13, 0.503, 0.09, 0.20, 0.022)
SITE_COUNT = (24, 38, 124, 34, 58, 11)
# Where people were born: the county's current code, or the 娄底地区 code used before 1999.
BIRTH_REGION = {
    "431302": ("431302", "432501"),
    "431321": ("431321", "432522"),
    "431322": ("431322", "432524"),
    "431381": ("431381", "432502"),
    "431382": ("431382", "432503"),
    KAIFAQU: ("431302", "432501"),
}
KAIFAQU_TOWNSHIPS = (("431371001", "经开区第一片区（演示）"), ("431371002", "经开区第二片区（演示）"))

# Per-county rates, in COUNTIES order. 1 means the target is met everywhere in that county.
# Site rates apply per site, household rates per household, person rates per person.
RATES: dict[str, tuple[float, ...]] = {
    # sites
    "party_org": (1, 1, 0.97, 1, 0.94, 1),
    "self_gov_org": (1, 0.96, 1, 1, 0.95, 1),
    "one_stop_centre": (1, 1, 0.85, 1, 0.8, 1),
    "first_secretary": (1, 1, 0.97, 1, 0.95, 1),
    "work_team": (1, 0.95, 1, 1, 0.96, 1),
    "governance_centre": (1, 1, 0.9, 1, 0.9, 1),
    "public_assistance": (1, 0.95, 1, 1, 0.92, 1),
    "convenience_store": (1, 1, 0.95, 1, 1, 1),
    "social_orgs": (0.95, 0.9, 0.9, 1, 0.85, 1),
    "industry_plan": (1, 1, 0.96, 1, 0.93, 1),
    "industry_base": (0.9, 0.92, 0.86, 1, 0.84, 1),
    "property_management": (1, 0.9, 0.85, 1, 0.8, 1),
    "complete_community": (0.8, 0.7, 0.6, 0.75, 0.65, 1),
    "smart_community": (0.4, 0.1, 0.08, 0.2, 0.1, 0.5),
    "kindergarten": (1, 1, 0.9, 1, 0.92, 1),
    "medical_facility": (1, 1, 0.97, 1, 0.96, 1),
    "cultural_venue": (1, 0.95, 0.93, 1, 0.9, 1),
    "public_transport": (1, 0.95, 0.9, 1, 0.9, 1),
    "ceremony_hall": (1, 0.8, 0.7, 0.9, 0.75, 1),
    "tool_storage": (1, 0.85, 0.75, 0.9, 0.8, 1),
    "industrial_park": (0.5, 0.6, 0.7, 0.8, 0.6, 1),
    # households
    "monitoring_assisted": (1, 0.95, 0.92, 1, 0.9, 1),
    "hazard_unfixed": (0, 0.002, 0.004, 0, 0.003, 0),
    "tap_water": (1, 1, 0.995, 1, 0.99, 1),
    "water_shortage": (0, 0, 0.003, 0, 0.002, 0),
    "industry_project": (0.99, 0.97, 0.95, 1, 0.93, 1),
    "safety_net": (1, 0.98, 0.97, 1, 0.96, 1),
    "helper": (1, 1, 0.99, 1, 0.98, 1),
    # persons
    "employed": (0.99, 0.97, 0.95, 1, 0.94, 0.98),
    "checked": (1, 0.97, 0.95, 0.98, 0.94, 1),
    "transport_subsidy": (1, 0.98, 0.97, 1, 0.95, 1),
    "trained": (0.8, 0.6, 0.5, 0.7, 0.45, 0.9),
    "kindergarten_enrolled": (1, 0.98, 0.96, 1, 0.95, 1),
    "dropout": (0, 0, 0.002, 0, 0.001, 0),
    "student_aid": (1, 0.98, 0.97, 1, 0.95, 1),
    "medical_insurance": (1, 0.998, 0.995, 1, 0.99, 1),
    "family_doctor": (0.96, 0.9, 0.88, 1, 0.86, 0.95),
    # petitions
    "resolved": (0.97, 0.93, 0.9, 1, 0.88, 1),
    "in_village": (1, 0.9, 0.88, 0.95, 0.85, 0.95),
}
# Mean income growth of the previous year, per county (city growth 6.1%: +2 pp means 8.1%).
INCOME_GROWTH = (0.098, 0.085, 0.074, 0.093, 0.07, 0.105)
CITY_GROWTH = (6.4, 6.1)  # the two previous years, in percent
MONITORING_LINE_YUAN = (7_300, 7_500, 7_700)  # the two previous years and the running one
# (proceeds share to households, linkage-to-relocation growth minus total linkage growth), per county.
FINANCE_PROFILE = ((0.86, 0.02), (0.82, 0.01), (0.84, -0.03), (0.9, 0.04), (0.72, 0.0), (0.95, 0.05))

SURNAMES = "曾刘李王张陈罗谢周彭吴杨邹肖龙袁康颜梁胡朱邓黄贺戴孙谭唐石向蒋聂廖伍段夏"
GIVEN = "建国志红伟华明军平芳英兰秀玉桂春梅丽强勇超杰涛斌波敏静燕霞娟婷雪思宇子浩轩欣怡梓涵佳琪俊鹏文武清云海林"
PLACE = "石桥塘坪溪冲湾岭山田坳湖口坝洲园龙凤梅桃杨柳竹松荷花金银新安和平兴隆福寿长乐高"
WORK_PLACES = (
    "广东省东莞市",
    "广东省深圳市",
    "广东省广州市",
    "浙江省宁波市",
    "浙江省义乌市",
    "湖南省长沙市",
    "福建省厦门市",
)
PROJECTS = (
    "黄精种植",
    "油茶基地入股",
    "生猪养殖",
    "光伏电站分红",
    "茶叶加工",
    "帮扶车间计件",
    "中药材种植",
    "乡村旅游",
)
SURNAME_COUNT = len(SURNAMES)


def rate(name: str, county_index: int) -> float:
    return RATES[name][county_index]


def _largest_remainder(total: int, weights: list[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (deterministic)."""
    weight_sum = sum(weights) or 1.0
    exact = [total * w / weight_sum for w in weights]
    counts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


@dataclass
class _Table:
    """Column layout of one model, with its defaults, for writing raw rows."""

    model: type[models.Model]
    columns: list[str] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    template: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        now = timezone.now()
        default: Any  # whatever the field's default is
        for position, model_field in enumerate(self.model._meta.concrete_fields):
            self.columns.append(cast(str, model_field.column))  # a concrete field has a column (Django's definition)
            self.index[model_field.attname] = position
            if getattr(model_field, "auto_now", False) or getattr(model_field, "auto_now_add", False):
                default = now
            elif model_field.has_default():
                default = model_field.get_default()
            elif model_field.null:
                default = None
            elif isinstance(model_field, models.CharField | models.TextField):
                default = ""
            else:
                default = None
            self.template.append(default)

    def row(self, values: dict[str, Any]) -> list[Any]:
        row = list(self.template)
        for name, value in values.items():
            row[self.index[name]] = value
        return row


class RowWriter:
    """Buffers rows per model and writes them in foreign-key order, one transaction per flush."""

    ORDER = (Area, Site, Household, Person, Income, Grievance, FollowUpAction)

    def __init__(self) -> None:
        self.postgres = connection.vendor == "postgresql"
        self.tables: dict[type[models.Model], _Table] = {model: _Table(model) for model in self.ORDER}
        self.buffers: dict[type[models.Model], list[list[Any]]] = {model: [] for model in self.ORDER}
        self.written: dict[type[models.Model], int] = dict.fromkeys(self.ORDER, 0)

    def add(self, model: type[models.Model], values: dict[str, Any]) -> None:
        self.buffers[model].append(self.tables[model].row(values))

    def flush(self) -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for model in self.ORDER:
                rows = self.buffers[model]
                if not rows:
                    continue
                table = self.tables[model]
                names = ", ".join(connection.ops.quote_name(column) for column in table.columns)
                db_table = connection.ops.quote_name(model._meta.db_table)
                if self.postgres:
                    with cursor.cursor.copy(f"COPY {db_table} ({names}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                else:
                    placeholders = ", ".join(["%s"] * len(table.columns))
                    cursor.executemany(
                        # The model's own table and columns; every value goes through a placeholder.
                        f"INSERT INTO {db_table} ({names}) VALUES ({placeholders})",  # noqa: S608
                        [_plain_row(r) for r in rows],
                    )
                self.written[model] += len(rows)
                rows.clear()

    def reset_sequences(self) -> None:
        statements = connection.ops.sequence_reset_sql(no_style(), list(self.ORDER))
        if statements:
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)


def _plain_row(row: list[Any]) -> list[Any]:
    """Dates and datetimes as the text SQLite stores (no reliance on sqlite3's deprecated adapters)."""
    out = []
    for value in row:
        if isinstance(value, datetime.datetime):
            value = connection.ops.adapt_datetimefield_value(value)
        elif isinstance(value, datetime.date):
            value = value.isoformat()
        out.append(value)
    return out


@dataclass
class _Village:
    id: int
    code: str
    name: str
    county_index: int
    county_code: str
    township_code: str


@dataclass
class _SitePlan:
    id: int
    code: str
    name: str
    village: _Village
    kind: str
    households: int = 0


class IdNumbers:
    """Unique, valid ID numbers: a counter per (birth region, birth date, sex) gives the sequence digits."""

    def __init__(self) -> None:
        self.used: dict[tuple[str, int, int], int] = {}

    def make(self, region: str, birth: datetime.date, male: bool) -> str:
        day = birth.toordinal()
        while True:
            key = (region, day, male)
            count = self.used.get(key, 0)
            if count < 500:
                self.used[key] = count + 1
                break
            day += 1  # more than 500 of one sex born the same day in one county: take the next day
        date = datetime.date.fromordinal(day)
        # Spread the sequence digits over 000–999 (a fixed offset per key keeps them unique); odd = male.
        offset = (int(region) * 31 + day * 17) % 500
        sequence = ((offset + count) % 500) * 2 + (1 if male else 0)
        first17 = f"{region}{date:%Y%m%d}{sequence:03d}"
        return first17 + id_check_digit(first17)


@dataclass
class _Members:
    """A household's head and tallies of its active members, as ``write_household`` needs them."""

    head_id: str = ""
    head_name: str = ""
    active: int = 0
    labour: int = 0  # in the labour force (ordinary, skilled, weak)
    employed: int = 0  # of those, with work


def _monitoring_draw(rng: random.Random) -> str:
    """防返贫 monitoring: about 3.6 % of households, most of them unstable or marginal."""
    draw = rng.random()
    if draw < 0.015:
        return Monitoring.UNSTABLE
    if draw < 0.03:
        return Monitoring.MARGINAL
    if draw < 0.036:
        return Monitoring.SUDDEN_HARDSHIP
    return Monitoring.NONE


class DemoBuilder:
    def __init__(self, *, households: int, seed: int, today: datetime.date, log: Callable[[str], None]) -> None:
        self.total_households = households
        self.seed = seed
        self.today = today
        self.year = today.year
        self.log = log
        self.rng = random.Random(seed)
        self.writer = RowWriter()
        self.ids = IdNumbers()
        self.next_id = dict.fromkeys(RowWriter.ORDER, 1)
        self.villages_by_township: dict[str, list[_Village]] = {}
        self.county_villages: dict[str, list[_Village]] = {}
        self.areas: dict[str, int] = {}
        self.counts = {"sites": 0, "households": 0, "persons": 0, "active_persons": 0, "cancelled_households": 0}

    # ----------------------------------------------------------------- helpers
    def _id(self, model: type[models.Model]) -> int:
        value = self.next_id[model]
        self.next_id[model] = value + 1
        return value

    def _date_between(self, rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
        if end <= start:
            return start
        return datetime.date.fromordinal(rng.randint(start.toordinal(), end.toordinal()))

    @staticmethod
    def _place_name(rng: random.Random, suffix: str) -> str:
        return rng.choice(PLACE) + rng.choice(PLACE) + suffix

    # ------------------------------------------------------------------- areas
    def build_areas(self) -> list[tuple[str, str, int]]:
        """Write the area tree; return the townships as (code, name, county index)."""
        townships: list[tuple[str, str, int]] = []
        with AREAS_CSV.open(encoding="utf-8-sig") as handle:
            rows = list(csv.DictReader(handle))
        for code, name in KAIFAQU_TOWNSHIPS:
            rows.append({"区划代码": code, "名称": name, "级别": AreaLevel.TOWNSHIP, "上级代码": KAIFAQU, "demo": "1"})
        level_order: dict[str, int] = {AreaLevel.CITY: 0, AreaLevel.COUNTY: 1, AreaLevel.TOWNSHIP: 2}
        rows.sort(key=lambda r: (level_order[r["级别"]], r["区划代码"]))
        for row in rows:
            code, level = row["区划代码"], row["级别"]
            area_id = self._id(Area)
            self.areas[code] = area_id
            values = {
                "id": area_id,
                "code": code,
                "name": row["名称"],
                "level": level,
                "parent_id": self.areas.get(row["上级代码"]) if row["上级代码"] else None,
                "county_code": code[:6] if level != AreaLevel.CITY else "",
                "township_code": code if level == AreaLevel.TOWNSHIP else "",
                "is_demo": bool(row.get("demo")),
            }
            if level == AreaLevel.TOWNSHIP:
                county_index = COUNTIES.index(code[:6])
                values["has_industrial_park"] = self.rng.random() < rate("industrial_park", county_index)
                townships.append((code, row["名称"], county_index))
            self.writer.add(Area, values)
        return townships

    def _villages(self, township: str, county_index: int, communities: int, villages: int) -> list[_Village]:
        rng = random.Random(f"{self.seed}/villages/{township}")
        made: list[_Village] = []
        names: set[str] = set()
        for number in range(communities + villages):
            is_community = number < communities
            suffix_number = (1 + number) if is_community else (200 + number - communities)
            code = f"{township}{suffix_number:03d}"
            name = self._place_name(rng, "社区" if is_community else "村")
            while name in names:
                name = self._place_name(rng, "社区" if is_community else "村")
            names.add(name)
            village = _Village(self._id(Area), code, name, county_index, township[:6], township)
            self.writer.add(
                Area,
                {
                    "id": village.id,
                    "code": code,
                    "name": name,
                    "level": AreaLevel.VILLAGE,
                    "parent_id": self.areas[township],
                    "county_code": township[:6],
                    "township_code": township,
                    "is_demo": True,
                },
            )
            made.append(village)
        return made

    # ------------------------------------------------------------------- plan
    def plan(self, townships: list[tuple[str, str, int]]) -> list[tuple[str, str, int, list[_SitePlan], int]]:
        """Decide sites per township and households per site (small: one entry per site)."""
        scale = self.total_households / DEFAULT_HOUSEHOLDS
        total_sites = max(len(COUNTIES), round(DEFAULT_SITES * scale))
        sites_per_county = [max(1, n) for n in _largest_remainder(total_sites, list(SITE_COUNT))]
        households_per_county = _largest_remainder(self.total_households, list(HOUSEHOLD_SHARE))
        result = []
        for county_index, county in enumerate(COUNTIES):
            own = [t for t in townships if t[2] == county_index]
            rng = random.Random(f"{self.seed}/plan/{county}")
            # Streets (街道) and big towns hold more sites; some townships hold none.
            weights = [(2.0 if name.endswith("街道") else 1.0) * rng.random() ** 1.5 for _, name, _ in own]
            site_counts = _largest_remainder(sites_per_county[county_index], weights)
            sizes: list[float] = []
            site_specs: list[tuple[int, float]] = []  # (township position, weight)
            for position, count in enumerate(site_counts):
                for _ in range(count):
                    draw = rng.random()
                    if draw < 0.05:
                        size = rng.uniform(1000, 1600)
                    elif draw < 0.13:
                        size = rng.uniform(550, 780)
                    elif draw < 0.43:
                        size = rng.uniform(150, 400)
                    else:
                        size = rng.uniform(30, 150)
                    sizes.append(size)
                    site_specs.append((position, size))
            households = households_per_county[county_index]
            dispersed = round(households * DISPERSED_SHARE) if site_specs else households
            per_site = _largest_remainder(households - dispersed, sizes) if site_specs else []
            dispersed_per_township = _largest_remainder(dispersed, [0.2 + rng.random() for _ in own])
            county_villages: list[_Village] = []
            township_plans: list[list[_SitePlan]] = [[] for _ in own]
            for position, (code, name, _) in enumerate(own):
                specs = [(i, size) for i, (p, size) in enumerate(site_specs) if p == position]
                urban = [i for i, size in specs if name.endswith("街道") or size >= 500]
                rural = [i for i, _ in specs if i not in urban]
                villages = self._villages(code, county_index, min(199, max(1, len(urban))), min(399, len(rural) + 3))
                self.villages_by_township[code] = villages
                county_villages.extend(villages)
                communities = [v for v in villages if v.code[-3] in "01"]
                plain_villages = [v for v in villages if v.code[-3] not in "01"]
                for order, i in enumerate(urban + rural):
                    is_urban = i in urban
                    pool = communities if is_urban else plain_villages
                    village = pool[order % len(pool)] if is_urban else pool[(order - len(urban)) % len(pool)]
                    site_id = self._id(Site)
                    number = site_id
                    site_name = village.name.removesuffix("社区").removesuffix("村") + (
                        rng.choice(("安置区", "安置小区", "幸福家园", "新村安置点")) if is_urban else "集中安置点"
                    )
                    township_plans[position].append(
                        _SitePlan(
                            site_id,
                            f"AZD{county}{number:05d}",
                            site_name,
                            village,
                            SiteKind.URBAN if is_urban else SiteKind.RURAL,
                            per_site[i],
                        )
                    )
            self.county_villages[county] = county_villages
            for position, (code, name, _) in enumerate(own):
                result.append((code, name, county_index, township_plans[position], dispersed_per_township[position]))
        return result

    # ------------------------------------------------------------------- sites
    def write_site(self, plan: _SitePlan) -> None:
        rng = random.Random(f"{self.seed}/site/{plan.code}")
        c = plan.village.county_index
        people = plan.households * 3.55
        urban = plan.kind == SiteKind.URBAN
        values: dict[str, Any] = {
            "id": plan.id,
            "code": plan.code,
            "name": plan.name,
            "village_id": plan.village.id,
            "county_code": plan.village.county_code,
            "township_code": plan.village.township_code,
            "village_code": plan.village.code,
            "kind": plan.kind,
        }
        for name in (
            "party_org",
            "self_gov_org",
            "first_secretary",
            "work_team",
            "industry_plan",
            "industry_base",
            "medical_facility",
            "cultural_venue",
            "public_transport",
            "smart_community",
        ):
            values[name] = rng.random() < rate(name, c)
        big = people >= 700
        for name in ("one_stop_centre", "governance_centre", "public_assistance", "convenience_store", "social_orgs"):
            values[name] = rng.random() < (rate(name, c) if big else 0.4)
        values["kindergarten"] = rng.random() < (rate("kindergarten", c) if big else 0.5)
        values["property_management"] = rng.random() < (rate("property_management", c) if people >= 450 else 0.3)
        values["complete_community"] = urban and rng.random() < rate("complete_community", c)
        values["ceremony_hall_needed"] = rng.random() < (0.15 if urban else 0.45)
        values["ceremony_hall"] = values["ceremony_hall_needed"] and rng.random() < rate("ceremony_hall", c)
        values["tool_storage_needed"] = not urban and rng.random() < 0.5
        values["tool_storage"] = values["tool_storage_needed"] and rng.random() < rate("tool_storage", c)
        self.writer.add(Site, values)
        self.counts["sites"] += 1
        if rng.random() < 0.2:
            self._action(rng, c, plan.village, None, plan.id, None, site_level=True)

    # -------------------------------------------------------------- households
    def _members(self, rng: random.Random, size: int) -> list[tuple[str, int, bool | None]]:
        """(relation, age, male or None for "either") for a household of ``size``."""
        head_age = int(rng.triangular(24, 84, 50))
        head_male = rng.random() < 0.85
        members: list[tuple[str, int, bool | None]] = [(Relation.HEAD, head_age, head_male)]
        if size >= 2 and rng.random() < 0.88:
            members.append((Relation.SPOUSE, max(20, head_age + rng.randint(-6, 3)), not head_male))
        while len(members) < size:
            have_children = sum(1 for m in members if m[0] == Relation.CHILD)
            if head_age <= 55 and have_children < 4 and head_age >= 22:
                members.append((Relation.CHILD, rng.randint(0, min(30, head_age - 20)), None))
            elif head_age <= 55 and head_age + 22 < 95:
                members.append((Relation.PARENT, min(95, head_age + rng.randint(22, 32)), None))
            elif head_age > 55 and have_children < 2:
                members.append((Relation.CHILD, max(18, head_age - rng.randint(22, 34)), None))
            elif head_age > 45:
                members.append((Relation.GRANDCHILD, rng.randint(0, min(17, head_age - 42)), None))
            else:
                members.append((Relation.SIBLING, max(16, head_age + rng.randint(-10, 10)), None))
        return members

    def _birth_date(self, rng: random.Random, age: int) -> datetime.date:
        latest = self.today.toordinal() - round(age * 365.2425)
        return datetime.date.fromordinal(latest - rng.randint(0, 364))

    def write_household(
        self, rng: random.Random, c: int, village: _Village, site: _SitePlan | None, number: int
    ) -> None:
        """One household with its members, and (when active) its incomes, maybe a petition and an
        action. Every draw of ``rng`` happens in a fixed order: the same seed gives the same rows."""
        household_id = self._id(Household)
        codes = {
            "county_code": village.county_code,
            "township_code": village.township_code,
            "village_code": village.code,
        }
        registered_poor = rng.random() < 0.85
        cancelled = rng.random() < 0.015
        members = self._write_members(rng, c, household_id, codes, registered_poor=registered_poor, cancelled=cancelled)
        row = self._household_row(rng, c, village, site, registered_poor=registered_poor, cancelled=cancelled)
        row.update(codes, id=household_id, code=f"{village.township_code}{number:06d}")
        row.update(
            head_name=members.head_name,
            head_id_hash=personal_data.blind_index(members.head_id),
            head_id_encrypted=personal_data.encrypt(members.head_id),
        )
        self.writer.add(Household, row)
        self.counts["households"] += 1
        if cancelled:
            self.counts["cancelled_households"] += 1
            return
        self._incomes(rng, c, household_id, max(1, members.active), row["monitoring"])
        if rng.random() < 0.015:
            self._grievance(rng, c, village, site, household_id)
        needs_work = members.labour and not members.employed
        if rng.random() < (0.3 if needs_work else 0.05):
            kind = ActionKind.EMPLOYMENT if needs_work else rng.choice(list(ActionKind.values))
            self._action(rng, c, village, household_id, None, kind)

    def _write_members(
        self,
        rng: random.Random,
        c: int,
        household_id: int,
        codes: dict[str, str],
        *,
        registered_poor: bool,
        cancelled: bool,
    ) -> "_Members":
        """The household's persons (size, surname, then each member), written after the 一户一就业 fix-up
        below; returns the head and the tallies the household row and its follow-ups need."""
        size_draw = rng.random()
        size = 1 + sum(size_draw > edge for edge in (0.08, 0.24, 0.48, 0.75, 0.91, 0.98))
        surname = SURNAMES[min(SURNAME_COUNT - 1, int(rng.random() ** 1.6 * SURNAME_COUNT))]
        members = _Members()
        people: list[dict[str, Any]] = []
        idle: dict[str, Any] | None = None  # the first active labour-force person without work
        for relation, age, male_hint in self._members(rng, size):
            person, id_number = self._member(rng, c, relation, age, male_hint, surname, registered_poor, cancelled)
            person.update(codes, id=self._id(Person), household_id=household_id)
            if relation == Relation.HEAD:
                members.head_id, members.head_name = id_number, person["name"]
            if person["status"] == RecordStatus.ACTIVE:
                members.active += 1
                if person["labour"] in (Labour.ORDINARY, Labour.SKILLED, Labour.WEAK):
                    members.labour += 1
                    employed = person.get("employment", Employment.UNEMPLOYED) != Employment.UNEMPLOYED
                    members.employed += employed
                    idle = idle or (None if employed else person)
            people.append(person)
            self.counts["persons"] += 1
            self.counts["active_persons"] += person["status"] == RecordStatus.ACTIVE
        if idle is not None and not members.employed and rate("employed", c) >= 1:
            # Where the county reaches 一户一就业, a household's idle worker holds a flexible job.
            idle.update(wants_work=True, employment=Employment.FLEXIBLE)
            members.employed = 1
        for person in people:
            self.writer.add(Person, person)
        return members

    def _member(
        self,
        rng: random.Random,
        c: int,
        relation: str,
        age: int,
        male_hint: bool | None,
        surname: str,
        registered_poor: bool,
        cancelled: bool,
    ) -> tuple[dict[str, Any], str]:
        """One person's row (without its ids and codes) and ID number: birth, name and status drawn
        here, the rest by ``_person``."""
        male = male_hint if male_hint is not None else rng.random() < 0.5
        birth = self._birth_date(rng, age)
        regions = BIRTH_REGION[COUNTIES[c]]
        region = regions[1] if birth.year < 1999 and rng.random() < 0.7 else regions[0]
        id_number = self.ids.make(region, birth, male)
        age = age_on(birth, self.today)
        person_cancelled = cancelled or (relation != Relation.HEAD and rng.random() < 0.012)
        name = surname if relation in (Relation.HEAD, Relation.CHILD, Relation.GRANDCHILD) else rng.choice(SURNAMES)
        name += rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.8 else "")
        person = self._person(rng, c, age, registered_poor)
        person.update(
            id_number_hash=personal_data.blind_index(id_number),
            id_number_encrypted=personal_data.encrypt(id_number),
            name=name,
            relation=relation,
            status=RecordStatus.CANCELLED if person_cancelled else RecordStatus.ACTIVE,
            sex=Sex.MALE if male else Sex.FEMALE,
            birth_date=birth,
        )
        return person, id_number

    def _household_row(
        self,
        rng: random.Random,
        c: int,
        village: _Village,
        site: _SitePlan | None,
        *,
        registered_poor: bool,
        cancelled: bool,
    ) -> dict[str, Any]:
        """The household's own facts (without its ids, codes and head), drawn in the order of the columns."""
        monitoring = _monitoring_draw(rng)
        hazard = HousingHazard.NONE
        draw = rng.random()
        if draw < rate("hazard_unfixed", c):
            hazard = HousingHazard.UNFIXED
        elif draw < 0.03:
            hazard = HousingHazard.FIXED
        eligible = rng.random() < 0.12
        phone = f"1{rng.choice('3578')}{rng.randint(0, 999_999_999):09d}" if rng.random() < 0.8 else ""
        helper = ""
        if (registered_poor and rng.random() < rate("helper", c)) or rng.random() < 0.3:
            helper = SURNAMES[rng.randrange(SURNAME_COUNT)] + rng.choice(GIVEN) + rng.choice(GIVEN)
        return {
            "village_id": village.id,
            "site_id": site.id if site else None,
            "origin_id": self._origin(rng, c).id,
            "relocation_year": rng.choice((2016, 2017, 2018, 2018, 2019, 2019, 2020))
            if registered_poor
            else rng.randint(2012, 2021),
            "category": HouseholdCategory.REGISTERED_POOR if registered_poor else HouseholdCategory.ALONGSIDE,
            "status": RecordStatus.CANCELLED if cancelled else RecordStatus.ACTIVE,
            "monitoring": monitoring,
            "monitoring_assisted": monitoring != Monitoring.NONE and rng.random() < rate("monitoring_assisted", c),
            "housing_hazard": hazard,
            "tap_water": (rng.random() < rate("tap_water", c)) if registered_poor else rng.random() < 0.97,
            "seasonal_water_shortage": rng.random() < rate("water_shortage", c),
            "industry_project": rng.choice(PROJECTS) if rng.random() < rate("industry_project", c) else "",
            "dividend": rng.randint(200, 1500) * 100 if rng.random() < 0.4 else 0,
            "safety_net_eligible": eligible,
            "safety_net": (rng.choice((SafetyNet.DIBAO, SafetyNet.DIBAO, SafetyNet.TEKUN)))
            if eligible and rng.random() < rate("safety_net", c)
            else SafetyNet.NONE,
            "helper": helper,
            "contact": SURNAMES[rng.randrange(SURNAME_COUNT)] + rng.choice(GIVEN) + rng.choice(GIVEN),
            "phone_encrypted": personal_data.encrypt(phone),
            "phone_masked": personal_data.mask_phone(phone),
        }

    def _origin(self, rng: random.Random, c: int) -> _Village:
        villages = self.county_villages[COUNTIES[c]]
        return villages[rng.randrange(len(villages))]

    def _person(self, rng: random.Random, c: int, age: int, registered_poor: bool) -> dict[str, Any]:
        person: dict[str, Any] = {
            "medical_insurance": rng.random() < rate("medical_insurance", c),
            "family_doctor": rng.random() < rate("family_doctor", c),
        }
        schooling = Schooling.NOT_IN_SCHOOL
        if 3 <= age <= 5:
            schooling = (
                Schooling.KINDERGARTEN
                if rng.random() < rate("kindergarten_enrolled", c)
                else (Schooling.PRESCHOOL_NOT_ENROLLED)
            )
        elif 6 <= age <= 15:
            schooling = Schooling.PRIMARY if age <= 11 else Schooling.JUNIOR
            if age == 15 and rng.random() < 0.5:
                schooling = Schooling.SENIOR_OR_ABOVE
            draw = rng.random()
            if draw < rate("dropout", c):
                schooling = Schooling.DROPPED_OUT
            elif draw < 0.004:
                schooling = Schooling.HOME_TEACHING
        elif 16 <= age <= 18:
            schooling = Schooling.SENIOR_OR_ABOVE if rng.random() < 0.75 else Schooling.JUNIOR_GRADUATE
        elif 19 <= age <= 22 and rng.random() < 0.35:
            schooling = Schooling.SENIOR_OR_ABOVE
        student = schooling in (Schooling.PRIMARY, Schooling.JUNIOR, Schooling.SENIOR_OR_ABOVE)
        if student and rng.random() < 0.1:
            person["hardship_student"] = True
            person["student_aid"] = rng.random() < rate("student_aid", c)
        person["schooling"] = schooling

        draw = rng.random()
        if age < 16 or (age <= 22 and schooling == Schooling.SENIOR_OR_ABOVE):
            labour = Labour.NONE
        elif age < 60:
            labour = (
                Labour.ORDINARY
                if draw < 0.7
                else Labour.SKILLED
                if draw < 0.86
                else Labour.WEAK
                if draw < 0.94
                else Labour.LOST
                if draw < 0.98
                else Labour.NONE
            )
        elif age <= 70:
            labour = Labour.WEAK if draw < 0.5 else Labour.ORDINARY if draw < 0.68 else Labour.LOST
        else:
            labour = Labour.ORDINARY if draw < 0.003 else Labour.LOST if draw < 0.5 else Labour.NONE
        person["labour"] = labour
        if labour in (Labour.ORDINARY, Labour.SKILLED, Labour.WEAK):
            wants_work = rng.random() < (0.85 if labour != Labour.WEAK else 0.6)
            person["wants_work"] = wants_work
            employed = rng.random() < rate("employed", c) if wants_work else rng.random() < 0.2
            if employed:
                draw = rng.random()
                if labour == Labour.WEAK:
                    employment = Employment.PUBLIC_WELFARE if draw < 0.45 else Employment.WORKSHOP
                else:
                    employment = (
                        Employment.MIGRANT
                        if draw < 0.47
                        else Employment.LOCAL_FIRM
                        if draw < 0.63
                        else Employment.WORKSHOP
                        if draw < 0.72
                        else Employment.PUBLIC_WELFARE
                        if draw < 0.77
                        else Employment.SELF_EMPLOYED
                        if draw < 0.82
                        else Employment.FLEXIBLE
                        if draw < 0.98
                        else Employment.WORK_RELIEF
                    )
                person["employment"] = employment
                if employment == Employment.MIGRANT:
                    person["work_place"] = rng.choice(WORK_PLACES)
                    person["transport_subsidy"] = rng.random() < (
                        rate("transport_subsidy", c) if registered_poor else 0.5
                    )
            # As the previous year left it (``advance_to_running_year`` brings the running year's on top):
            # the last check of the year falls inside its final quarter for most, the training inside the year.
            previous_end = datetime.date(self.year - 1, 12, 31)
            stale = rng.random() >= rate("checked", c)
            days_ago = rng.randint(95, 400) if stale else rng.randint(0, 85)
            person["employment_checked_on"] = previous_end - datetime.timedelta(days=days_ago)
            if age <= 55 and rng.random() < 0.4:
                person["wants_training"] = True
                if rng.random() < rate("trained", c):
                    person["trained_on"] = self._date_between(rng, datetime.date(self.year - 1, 1, 1), previous_end)
        return person

    def _incomes(self, rng: random.Random, c: int, household_id: int, size: int, monitoring: str) -> None:
        base_yuan = rng.lognormvariate(math.log(14_000), 0.3)
        if monitoring != Monitoring.NONE or rng.random() < 0.02:
            base_yuan = rng.uniform(6_000, 8_200)  # near or under the monitoring line: early warnings
        growth = rng.gauss(INCOME_GROWTH[c], 0.04)
        first = max(0, round(base_yuan * 100))
        second = max(0, round(base_yuan * (1 + growth) * 100))
        self.writer.add(
            Income,
            {
                "id": self._id(Income),
                "household_id": household_id,
                "year": self.year - 2,
                "size": size,
                "per_capita_income": first,
            },
        )
        if rng.random() < 0.996:  # a few households still miss last year's income row
            self.writer.add(
                Income,
                {
                    "id": self._id(Income),
                    "household_id": household_id,
                    "year": self.year - 1,
                    "size": size,
                    "per_capita_income": second,
                },
            )

    def _grievance(
        self, rng: random.Random, c: int, village: _Village, site: _SitePlan | None, household_id: int | None
    ) -> None:
        grievance_id = self._id(Grievance)
        received = self._date_between(rng, datetime.date(self.year - 1, 1, 1), self.today)
        resolved_on = None
        if rng.random() < rate("resolved", c):
            resolved_on = received + datetime.timedelta(days=rng.randint(2, 45))
            if resolved_on > self.today:
                resolved_on = None
        topic = rng.choice(list(GrievanceTopic.values))
        self.writer.add(
            Grievance,
            {
                "id": grievance_id,
                "county_code": village.county_code,
                "township_code": village.township_code,
                "village_code": village.code,
                "code": f"XF{village.county_code}{grievance_id:07d}",
                "site_id": site.id if site else None,
                "household_id": household_id,
                "village_id": village.id,
                "received_on": received,
                "topic": topic,
                "content": f"反映{topic}方面的问题（演示数据）",
                "handling": "已转相关部门办理并回访" if resolved_on else "正在协调办理",
                "status": GrievanceStatus.RESOLVED if resolved_on else GrievanceStatus.IN_PROGRESS,
                "resolved_on": resolved_on,
                "resolved_in_village": bool(resolved_on) and rng.random() < rate("in_village", c),
            },
        )

    def _action(
        self,
        rng: random.Random,
        c: int,
        village: _Village,
        household_id: int | None,
        site_id: int | None,
        kind: str | None,
        *,
        site_level: bool = False,
    ) -> None:
        action_id = self._id(FollowUpAction)
        kind = kind or rng.choice((ActionKind.FACILITIES, ActionKind.GOVERNANCE))
        status = ActionStatus.TODO
        done_on = None
        year_start = datetime.date(self.year, 1, 1)
        if rng.random() < 0.4:
            # Taken up last year: due inside that year, nearly all done then; the rest still open (overdue).
            due = self._date_between(rng, datetime.date(self.year - 1, 2, 1), datetime.date(self.year - 1, 12, 31))
            if rng.random() < 0.85:
                done_on = max(datetime.date(self.year - 1, 1, 1), due - datetime.timedelta(days=rng.randint(0, 20)))
                status = ActionStatus.DONE
            elif rng.random() < 0.5:
                status = ActionStatus.DOING
        else:
            due = max(year_start, self.today - datetime.timedelta(days=60)) + datetime.timedelta(
                days=rng.randint(0, 150)
            )
            if due < self.today and rng.random() < 0.7:
                done_on = max(year_start, due - datetime.timedelta(days=rng.randint(0, 20)))
                status = ActionStatus.DONE
            elif rng.random() < 0.5:
                status = ActionStatus.DOING  # open; overdue when due before today
        self.writer.add(
            FollowUpAction,
            {
                "id": action_id,
                "county_code": village.county_code,
                "township_code": village.township_code,
                "village_code": village.code,
                "code": f"TZ{village.county_code}{action_id:07d}",
                "household_id": household_id,
                "site_id": site_id,
                "kind": kind,
                "description": (
                    "完善安置点配套设施与治理（演示数据）" if site_level else f"落实{kind}措施（演示数据）"
                ),
                "owner": SURNAMES[rng.randrange(SURNAME_COUNT)] + rng.choice(GIVEN) + rng.choice(GIVEN),
                "due_on": due,
                "status": status,
                "done_on": done_on,
                "visit_note": "已入户走访" if rng.random() < 0.6 else "",
            },
        )

    # -------------------------------------------------------------------- run
    def households_iter(self, plans: list[tuple[str, str, int, list[_SitePlan], int]]) -> Iterator[None]:
        """Write every site and household, yielding after each household so the caller can flush."""
        for township, _name, c, sites, dispersed in plans:
            number = 0
            rng = random.Random(f"{self.seed}/township/{township}")
            for site in sites:
                self.write_site(site)
                for _ in range(site.households):
                    number += 1
                    self.write_household(rng, c, site.village, site, number)
                    yield
            villages = self.villages_by_township[township]
            for _ in range(dispersed):
                number += 1
                self.write_household(rng, c, villages[rng.randrange(len(villages))], None, number)
                yield

    def run(self) -> dict[str, int]:
        townships = self.build_areas()
        plans = self.plan(townships)
        self.writer.flush()
        self.log(f"区划: {self.writer.written[Area]} 条（{len(townships)} 个乡镇）")
        pending = 0
        for _ in self.households_iter(plans):
            pending += 1
            if pending >= CHUNK_HOUSEHOLDS:
                self.writer.flush()
                pending = 0
                if self.counts["households"] % (CHUNK_HOUSEHOLDS * 10) == 0:
                    self.log(f"  … {self.counts['households']:,} 户, {self.counts['persons']:,} 人")
        self.writer.flush()
        self.writer.reset_sequences()
        return self.counts


def write_city_inputs(*, year: int, seed: int) -> None:
    """County finance, city statistics, commendations and monitoring lines (small tables, ORM)."""
    rng = random.Random(f"{seed}/finance")
    counties = {area.code: area for area in Area.objects.filter(level=AreaLevel.COUNTY)}
    rows = []
    for index, code in enumerate(COUNTIES):
        share, linkage_gap = FINANCE_PROFILE[index]
        proceeds = round(SITE_COUNT[index] * rng.uniform(150_000, 260_000)) * 100
        linkage = round(HOUSEHOLD_SHARE[index] * rng.uniform(4.0e8, 5.0e8)) * 100
        relocation_share = rng.uniform(0.18, 0.26)
        total_growth = rng.uniform(0.03, 0.08)
        for offset, year_value in enumerate((year - 2, year - 1)):
            factor = (1 + total_growth) if offset else 1
            relocation_factor = (1 + total_growth + linkage_gap) if offset else 1
            year_proceeds = round(proceeds * (1.05 if offset else 1))
            rows.append(
                CountyFinance(
                    county=counties[code],
                    year=year_value,
                    asset_proceeds=year_proceeds,
                    proceeds_to_households=round(year_proceeds * (share if offset else max(share, 0.8))),
                    linkage_funds=round(linkage * factor),
                    linkage_to_relocation=round(linkage * relocation_share * relocation_factor),
                )
            )
    CountyFinance.objects.bulk_create(rows)
    CityStatistic.objects.bulk_create(
        [
            CityStatistic(year=year - 2, city_income_growth=CITY_GROWTH[0]),
            CityStatistic(year=year - 1, city_income_growth=CITY_GROWTH[1]),
        ]
    )
    MonitoringLine.objects.bulk_create(
        [MonitoringLine(year=year - 2 + i, line=yuan * 100) for i, yuan in enumerate(MONITORING_LINE_YUAN)]
    )
    Commendation.objects.bulk_create(
        [
            Commendation(
                unit="431322", year=year - 1, level="省级", title="全省易地扶贫搬迁后续扶持工作成效明显县市区"
            ),
            Commendation(unit="431381", year=year - 1, level="市级", title="全市搬迁群众稳岗就业先进单位"),
            Commendation(unit="市人社局", year=year - 1, level="省级", title="全省就业帮扶车间建设先进单位"),
            Commendation(unit="431302", year=year - 2, level="国家级", title="全国易地扶贫搬迁后续扶持示范社区"),
        ]
    )


_MASK64 = (1 << 64) - 1


def _uniform(seed: int, key: int, salt: int) -> float:
    """A number in [0, 1) that is a function of (seed, key, salt) alone (splitmix64): the running year's
    draws of a person can be made again from its id, without holding the rows in memory."""
    x = (seed * 0x9E3779B97F4A7C15 + key * 0xBF58476D1CE4E5B9 + salt * 0x94D049BB133111EB) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return (x ^ (x >> 31)) / 2.0**64


def advance_to_running_year(*, seed: int, today: datetime.date) -> int:
    """Bring the persons from the state the previous year left (as ``DemoBuilder`` writes them, and as
    that year's assessment is computed) to the running year's: employment re-checked this year for
    most, training this year for some. One pass over the persons in id order, in chunks, with
    ``executemany``; deterministic per seed. Returns the number of persons changed."""
    year_start = datetime.date(today.year, 1, 1)
    county_index = {code: index for index, code in enumerate(COUNTIES)}
    table = connection.ops.quote_name(Person._meta.db_table)
    statement = f"UPDATE {table} SET employment_checked_on = %s, trained_on = %s WHERE id = %s"  # noqa: S608
    persons = (
        Person.objects.filter(models.Q(employment_checked_on__isnull=False) | models.Q(wants_training=True))
        .order_by("id")
        .values_list("id", "county_code", "employment_checked_on", "wants_training", "trained_on")
    )
    postgres = connection.vendor == "postgresql"
    changed = 0
    last_id = 0
    with transaction.atomic():
        while True:
            # A chunk read whole before it is written: SQLite gives no isolation between a running
            # SELECT and an UPDATE of the same table on one connection.
            chunk = list(persons.filter(id__gt=last_id)[:CHUNK_HOUSEHOLDS])
            if not chunk:
                break
            last_id = chunk[-1][0]
            updates = []
            for person_id, county, checked, wants_training, trained in chunk:
                c = county_index.get(county, 0)
                new_checked, new_trained = checked, trained
                if checked is not None and _uniform(seed, person_id, 1) < rate("checked", c):
                    new_checked = today - datetime.timedelta(days=int(_uniform(seed, person_id, 2) * 86))
                if wants_training and _uniform(seed, person_id, 3) < rate("trained", c):
                    days = int(_uniform(seed, person_id, 4) * ((today - year_start).days + 1))
                    new_trained = year_start + datetime.timedelta(days=days)
                if (new_checked, new_trained) != (checked, trained):
                    updates.append([new_checked, new_trained, person_id])
            if updates:
                with connection.cursor() as cursor:
                    cursor.executemany(statement, updates if postgres else [_plain_row(row) for row in updates])
                changed += len(updates)
    return changed


DEMO_USERS = (
    ("demo_village", "village_staff", "村(社区)工作人员"),
    ("demo_township", "township_staff", "乡镇工作人员"),
    ("demo_county", "county_official", "县级干部"),
    ("demo_bureau", "city_bureau", "市直部门（市人社局）"),
    ("demo_admin", "city_admin", "市易扶办管理员"),
)


def _parent(area: Area) -> Area:
    if area.parent is None:
        raise ValueError(f"area {area.code} has no parent")
    return area.parent


def create_demo_users(*, password: str) -> list[tuple[str, str, str]]:
    """One user per role (access.md); returns (username, role label, area name)."""
    user_model = get_user_model()
    # The village of 新化县's first site: every role then sees the same households, more or less of them.
    site = Site.objects.filter(county_code="431322").order_by("code").first() or Site.objects.order_by("code").first()
    village = site.village if site else Area.objects.filter(level=AreaLevel.VILLAGE).order_by("code").first()
    if village is None:
        raise ValueError("no village: load the areas before the demo users")
    township = _parent(village)
    county = _parent(township)
    city = _parent(county)
    areas = {"village_staff": village, "township_staff": township, "county_official": county}
    made = []
    for username, role, label in DEMO_USERS:
        area = areas.get(role, city)
        user = user_model(username=username, role=role, area=area, first_name=label)
        if role == "city_bureau":
            user.department = "市人社局"
        if role == "city_admin":
            user.department = "市易扶办"
            user.is_staff = True
        user.set_password(password)
        user.save()
        if role == "city_admin":
            permission = Permission.objects.filter(codename="view_personal_data").first()
            if permission:
                user.user_permissions.add(permission)
        made.append((username, label, area.name))
    return made
