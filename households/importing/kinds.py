"""The seven registry templates of data.md: areas, sites, households, persons, incomes, grievances,
actions. (finance, citystats and commendations live in ``indicators/imports.py``.)"""

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, cast

from django.core.exceptions import ValidationError

from accounts.models import Role
from accounts.personal_data import (
    blind_index,
    decrypt,
    encrypt,
    mask_phone,
)
from areas.choices import AreaLevel
from areas.models import Area
from areas.selectors import PATH_FIELDS, within
from areas.validators import (
    LEVEL_DIGITS,
    PARENT_LEVEL,
    normalise_area_code,
    validate_area_code_prefix,
)
from households.choices import (
    LABOUR_FORCE,
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
    SiteKind,
)
from households.id_lookup import import_foreign_ids
from households.importing.base import (
    CHUNK_ROWS,
    SKIPPED,
    AreaInfo,
    Column,
    Context,
    ImportRow,
    Kind,
    Known,
    chunks,
    money,
    parse_id_number,
    parse_phone,
    related_code,
    secret_getter,
    text,
    yes_no,
)
from households.importing.cells import (
    CellError,
    any_area_code,
    area_code_parser,
    choice_parser,
    due_date,
    free_text,
    household_size,
    indicator_code,
    int_parser,
    max_length,
    number_text,
    past_date,
    record_code,
    reserved_action_code,
    today,
)
from households.importing.readers import FileError
from households.importing.registry import register
from households.importing.sql import fetch_instances, select_in
from households.models import (
    FollowUpAction,
    Grievance,
    Household,
    Income,
    Person,
    Site,
)
from households.validators import id_birth_date, id_sex

FIELD_STAFF = frozenset({Role.VILLAGE_STAFF, Role.TOWNSHIP_STAFF})
CURRENT_YEAR = None  # years are checked against timezone.localdate() at parse time


def this_year() -> int:
    return today().year  # per parsed cell: the cached date, not a time-zone lookup each


def choice(header: str, name: str, choices: Any, default: Any = "", **options: Any) -> Column:
    return Column(header, name, choice_parser(choices.values), default=default, **options)


def fetch(queryset: Any, field: str, values: set[Any]) -> list[Any]:
    found: list[Any] = []
    for batch in chunks(sorted(values, key=str)):
        found.extend(queryset.filter(**{f"{field}__in": batch}))
    return found


def in_scope_message(what: str, code: str) -> str:
    return f"{what}“{code}”不存在，请核对。"


# -- areas ------------------------------------------------------------------------------------


class AreasKind(Kind):
    name = "areas"
    label = "区划"
    model = Area
    roles = frozenset({Role.CITY_ADMIN, Role.TOWNSHIP_STAFF})
    columns = [
        Column("区划代码", "code", number_text, key=True),
        text("名称", "name", 100, required=True),
        choice("级别", "level", AreaLevel, required=True),
        Column(
            "上级代码",
            "parent",
            number_text,
            required_column=True,
            getter=lambda area, _m: area.parent.code if area.parent_id else "",
        ),
        yes_no("后扶产业园", "has_industrial_park"),
    ]

    def make_key(self, ctx: Context, row: ImportRow) -> tuple[Any, ...]:
        code: str = row.values["code"]
        level: str = row.values["level"]  # a required column: every valid row has one
        short = normalise_area_code(code, level)
        if not re.fullmatch(r"[0-9]+", short) or len(short) != LEVEL_DIGITS[level]:
            ctx.error(
                row, "区划代码", f"{level}的区划代码应为 {LEVEL_DIGITS[level]} 位数字（或以 0 补足的 12 位），请核对。"
            )
            return ()
        row.values["code"] = short
        parent = row.values.get("parent") or ""
        if parent and PARENT_LEVEL.get(level):
            row.values["parent"] = normalise_area_code(parent, PARENT_LEVEL[level])
        return (short,)

    def load(self, ctx: Context, rows: list[ImportRow]) -> None:
        ctx.load_areas([row.values["code"] for row in rows] + [row.values.get("parent") or "" for row in rows])
        ctx.data["file"] = {row.values["code"]: row for row in rows}
        codes = [row.values["code"] for row in rows]
        ctx.existing = {(area.code,): area for area in fetch(Area.objects.all(), "code", set(codes))}

    def resolve(self, ctx: Context, row: ImportRow) -> None:
        values = row.values
        code, level, parent_code = values["code"], values["level"], values.get("parent", "")
        existing = ctx.existing.get((code,))
        scoped_user = ctx.scope_area is not None
        if scoped_user and not self._allowed(ctx, level, parent_code):
            # A township's staff: their own villages only, checked before any lookup so that nothing
            # is said about another area (access.md).
            ctx.error(row, "区划代码", "您只能新增或修改本乡镇的村（社区）。")
            return
        if scoped_user and not self._prefixed(ctx, row, code, parent_code, AreaLevel.TOWNSHIP):
            return
        if scoped_user and existing is not None and not ctx.in_scope(existing.county_code, existing.township_code):
            ctx.error(row, "区划代码", "该区划代码已在系统中登记，请联系县级管理员。")
            return
        if existing is not None and existing.level != level:
            ctx.error(row, "级别", f"区划 {code} 已登记为“{existing.level}”级，级别不能通过导入更改。")
            return
        expected = PARENT_LEVEL.get(level)
        parent: Any = None
        if expected is None:
            if parent_code:
                ctx.error(row, "上级代码", "“市”级区划不能有上级代码，请清空上级代码。")
                return
        elif not parent_code:
            ctx.error(row, "上级代码", f"必填：{level}级区划须填写上级（{expected}级）区划代码。")
            return
        else:
            parent = ctx.data["file"].get(parent_code) or ctx.areas.get(parent_code)
            if parent is None:
                ctx.error(row, "上级代码", f"上级代码“{parent_code}”不存在：请先导入上级区划，或把它写在同一文件中。")
                return
            parent_level = parent.values.get("level") if isinstance(parent, ImportRow) else parent.level
            if parent_level != expected:
                ctx.error(row, "上级代码", f"{level}的上级必须是{expected}级区划，“{parent_code}”是{parent_level}级。")
                return
            if not self._prefixed(ctx, row, code, parent_code, parent_level):
                return
        if existing is not None and (existing.parent.code if existing.parent_id else "") != (parent_code or ""):
            ctx.error(
                row,
                "上级代码",
                f"区划 {code} 的上级是 {existing.parent.code if existing.parent_id else '（无）'}，"
                "上级不能通过导入更改。",
            )
            return
        county, township = self._path(ctx, level, code, parent_code)
        row.existing = existing
        row.attrs = {"code": code, "level": level, "county_code": county, "township_code": township}
        row.extra["parent_code"] = parent_code
        for name in ("name", "has_industrial_park"):
            if name in values:
                row.attrs[name] = values[name]

    @staticmethod
    def _prefixed(ctx: Context, row: ImportRow, code: str, parent_code: str, parent_level: str) -> bool:
        try:
            validate_area_code_prefix(code, parent_code, parent_level)
        except ValidationError as error:
            ctx.error(row, "区划代码", error.messages[0])
            return False
        return True

    @staticmethod
    def _allowed(ctx: Context, level: str, parent_code: str) -> bool:
        user = ctx.user
        if user is None or user.is_superuser or user.role == Role.CITY_ADMIN:
            return True
        return level == AreaLevel.VILLAGE and ctx.scope_area is not None and parent_code == ctx.scope_area.code

    @staticmethod
    def _path(ctx: Context, level: str, code: str, parent_code: str) -> tuple[str, str]:
        if level == AreaLevel.COUNTY:
            return code, ""
        if level == AreaLevel.TOWNSHIP:
            return parent_code, code
        if level == AreaLevel.VILLAGE:
            parent = ctx.data["file"].get(parent_code)
            if parent is not None:
                return parent.values.get("parent", ""), parent_code
            area = ctx.areas[parent_code]  # found by resolve(), which refuses a parent found nowhere
            return (area.county_code if area is not None else ""), parent_code
        return "", ""

    def write(self, creates: list[ImportRow], updates: list[ImportRow]) -> None:
        ids: dict[str, int] = {}
        for level in (AreaLevel.CITY, AreaLevel.COUNTY, AreaLevel.TOWNSHIP, AreaLevel.VILLAGE):
            batch = [row for row in creates if row.attrs["level"] == level]
            parents = {row.extra["parent_code"] for row in batch} - {""}
            missing = parents - set(ids)
            if missing:
                ids.update(Area.objects.filter(code__in=missing).values_list("code", "id"))
            for row in batch:
                row.instance.parent_id = ids.get(row.extra["parent_code"])
            self.insert([row.instance for row in batch])
            ids.update(Area.objects.filter(code__in=[row.attrs["code"] for row in batch]).values_list("code", "id"))
            for row in batch:
                row.instance.pk = ids[row.attrs["code"]]
        self.upsert(updates)

    def history_codes(self, row: ImportRow) -> tuple[str, str, str]:
        area = row.instance
        return area.county_code, area.township_code, area.code

    def export_queryset(self, ctx: Context) -> Any:
        queryset = Area.objects.select_related("parent").order_by("code")
        area = ctx.scope_area
        if area is None:
            return queryset
        if area.level == AreaLevel.VILLAGE:
            return queryset.filter(code=area.code)
        return queryset.filter(within(area))  # the areas below a county or township, not itself


# -- sites ------------------------------------------------------------------------------------

SITE_FLAGS = [
    ("基层党组织", "party_org"),
    ("群众自治组织", "self_gov_org"),
    ("一站式服务中心", "one_stop_centre"),
    ("第一书记", "first_secretary"),
    ("驻村工作队", "work_team"),
    ("综治中心", "governance_centre"),
    ("公共援助", "public_assistance"),
    ("便利店", "convenience_store"),
    ("社会组织", "social_orgs"),
    ("后扶产业方案", "industry_plan"),
    ("后扶产业基地", "industry_base"),
    ("物业管理", "property_management"),
    ("完整居住社区", "complete_community"),
    ("智慧社区", "smart_community"),
    ("幼儿园", "kindergarten"),
    ("医疗卫生服务设施", "medical_facility"),
    ("文化活动场所", "cultural_venue"),
    ("公交通达", "public_transport"),
    ("红白喜事场所需求", "ceremony_hall_needed"),
    ("红白喜事场所", "ceremony_hall"),
    ("农具存放需求", "tool_storage_needed"),
    ("农具存放场所", "tool_storage"),
]


def scoped(queryset: Any, ctx: Context) -> Any:
    area = ctx.scope_area
    if area is None:
        return queryset
    return queryset.filter(within(area))


def set_path(attrs: dict[str, Any], info: AreaInfo) -> None:
    attrs["county_code"], attrs["township_code"], attrs["village_code"] = info.path


class SitesKind(Kind):
    name = "sites"
    label = "安置点"
    model = Site
    streams = True
    roles = frozenset({Role.TOWNSHIP_STAFF})
    columns = [
        Column("安置点编码", "code", record_code, key=True),
        text("安置点名称", "name", 100, required=True),
        Column(
            "所在村社区代码",
            "village",
            area_code_parser(AreaLevel.VILLAGE),
            required=True,
            getter=related_code("village"),
        ),
        choice("安置方式", "kind", SiteKind, required=True),
        *[yes_no(header, name) for header, name in SITE_FLAGS],
    ]

    def load(self, ctx: Context, rows: list[ImportRow]) -> None:
        ctx.load_areas(row.values["village"] for row in rows)
        ctx.existing = {(site.code,): site for site in fetch(Site.objects.all(), "code", {row.key[0] for row in rows})}

    def resolve(self, ctx: Context, row: ImportRow) -> None:
        existing = ctx.existing.get(row.key)
        if existing is not None and not ctx.record_in_scope(existing):
            ctx.error(row, "安置点编码", "该安置点编码已在系统中登记，请联系县级管理员。")
            return
        village = ctx.village(row, "所在村社区代码", row.values["village"])
        if village is None:
            return
        row.existing = existing
        row.attrs = {name: value for name, value in row.values.items() if name != "village"}
        row.attrs["village_id"] = village.id
        set_path(row.attrs, village)

    def check_broken(self, ctx: Context, rows: list[ImportRow]) -> None:
        check_references(ctx, rows, {"village": "village"})

    def check_rows(self, ctx: Context, rows: list[ImportRow]) -> None:
        moved = {
            row.existing.pk: row
            for row in rows
            if row.existing is not None and row.existing.village_id != row.attrs["village_id"]
        }
        if not moved:
            return
        used = set(Household.objects.filter(site_id__in=moved).values_list("site_id", flat=True))
        used |= set(Grievance.objects.filter(site_id__in=moved).values_list("site_id", flat=True))
        used |= set(FollowUpAction.objects.filter(site_id__in=moved).values_list("site_id", flat=True))
        for site_id in used:
            ctx.error(moved[site_id], "所在村社区代码", "该安置点已有搬迁户或台账，不能通过导入更改所在村社区。")

    def export_queryset(self, ctx: Context) -> Any:
        return scoped(Site.objects.select_related("village").order_by("code"), ctx)


# -- households -------------------------------------------------------------------------------


def same_code(memo: dict[Any, str | None], parse: Any, cell: Any, code: str | None) -> bool:
    """Whether ``cell`` parses to ``code`` (``memo``: one chunk's parsed cells; a blank cell is
    ``""``, a cell that does not parse never equals a code)."""
    key = cell if type(cell) is str else (type(cell), cell)  # 1 and True are one dict key
    parsed = memo.get(key, memo)
    if parsed is memo:
        if cell == "" or (type(cell) is str and not cell.strip()):
            parsed = ""
        else:
            try:
                parsed = parse(cell)
            except CellError:
                parsed = None
        memo[key] = parsed
    return parsed is not None and parsed == (code or "")


def skip_candidates(rows: list[ImportRow]) -> dict[str, list[ImportRow]]:
    """The chunk's rows by fingerprint (identical rows share one: the duplicate check reports them)."""
    by_digest: dict[str, list[ImportRow]] = defaultdict(list)
    for row in rows:
        by_digest[row.digest].append(row)
    return by_digest


def household_known_sql() -> str:
    """``HouseholdsKind.unchanged``'s read: the records by fingerprint, and whether an active 户主 among
    the persons has another ID number than the one typed. Their village, site and origin are read
    apart (``_places``): joined here, a planner that believed one row would match (the statistics of a
    fingerprint column analysed before the import filled it) scanned the area table once per row."""
    household, person = Household._meta.db_table, Person._meta.db_table
    return (
        "SELECT h.import_digest, h.id, h.code, h.status, h.county_code, h.township_code, h.village_code, "  # noqa: S608 - the models' tables
        "h.village_id, h.site_id, h.origin_id, CASE WHEN h.head_id_hash = '' THEN FALSE ELSE EXISTS (SELECT 1 FROM "
        f"{person} p WHERE p.household_id = h.id AND p.relation = %s AND p.status = %s "
        f"AND p.id_number_hash <> h.head_id_hash) END FROM {household} h"
    )


def _places(found: list[tuple[Any, ...]]) -> tuple[dict[int, tuple[Any, ...]], dict[int, tuple[Any, ...]]]:
    """The areas (code, level, county, township) and sites (code, village id, county, township,
    village code) the found households name, by id."""
    area_ids = {row[7] for row in found} | {row[9] for row in found if row[9] is not None}
    site_ids = {row[8] for row in found if row[8] is not None}
    area, site = Area._meta.db_table, Site._meta.db_table
    areas = select_in(
        Area, f"SELECT a.id, a.code, a.level, a.county_code, a.township_code FROM {area} a", "a.id", area_ids,  # noqa: S608 - the model's table
        array_type="bigint", batch_size=CHUNK_ROWS,
    )  # fmt: skip
    sites = select_in(
        Site, f"SELECT s.id, s.code, s.village_id, s.county_code, s.township_code, s.village_code FROM {site} s",  # noqa: S608 - the model's table
        "s.id", site_ids, array_type="bigint", batch_size=CHUNK_ROWS,
    )  # fmt: skip
    return {row[0]: row[1:] for row in areas}, {row[0]: row[1:] for row in sites}


class HouseholdsKind(Kind):
    name = "households"
    label = "搬迁户"
    model = Household
    streams = True
    skips = True
    roles = FIELD_STAFF
    columns = [
        Column("户编号", "code", record_code, key=True),
        text("户主姓名", "head_name", 50, required=True),
        Column(
            "户主身份证号",
            "head_id",
            parse_id_number,
            secret="id",
            getter=secret_getter("head_id_encrypted"),
        ),
        Column(
            "现居村社区代码",
            "village",
            area_code_parser(AreaLevel.VILLAGE),
            required=True,
            getter=related_code("village"),
        ),
        Column("安置点编码", "site", record_code, getter=related_code("site")),
        Column("迁出地代码", "origin", any_area_code, getter=related_code("origin")),
        Column("搬迁年份", "relocation_year", int_parser(2001, this_year, "搬迁年份"), default=None),
        choice("户类型", "category", HouseholdCategory, required=True),
        choice("状态", "status", RecordStatus, default=RecordStatus.ACTIVE),
        choice("监测对象类别", "monitoring", Monitoring, default=Monitoring.NONE),
        yes_no("帮扶措施已落实", "monitoring_assisted"),
        choice("住房安全隐患", "housing_hazard", HousingHazard, default=HousingHazard.NONE),
        yes_no("自来水", "tap_water"),
        yes_no("季节性缺水", "seasonal_water_shortage"),
        text("后扶产业项目", "industry_project", 200),
        money("产业分红金额", "dividend"),
        yes_no("符合兜底条件", "safety_net_eligible"),
        choice("兜底保障类型", "safety_net", SafetyNet, default=SafetyNet.NONE),
        text("结对帮扶人", "helper", 50),
        text("结对联系人", "contact", 50),
        Column(
            "联系电话", "phone", parse_phone, secret="phone", getter=secret_getter("phone_encrypted", "phone_masked")
        ),
    ]

    def unchanged(self, ctx: Context, rows: list[ImportRow]) -> None:
        """Skipped when the record holds the row's fingerprint and what ``resolve`` checks still holds:
        the village (a 村 in the user's scope, the record's own path), the site (in scope, in that
        village) and the origin as the cells name them, and no active 户主 in the persons with
        another ID number than the household's."""
        by_digest = skip_candidates(rows)
        headers = ctx.headers
        parse = {column.field: column.parse for column in self.columns}
        memo: dict[str, dict[Any, str | None]] = {"village": {}, "site": {}, "origin": {}}
        heads = "户主身份证号" in headers  # the check of the typed 户主 ID runs only with the column
        found = select_in(
            Household,
            household_known_sql(),
            "h.import_digest",
            by_digest,
            [str(Relation.HEAD), str(RecordStatus.ACTIVE)],
            batch_size=CHUNK_ROWS,
        )
        areas, sites = _places(found)
        nowhere = (None,) * 5
        for digest, pk, code, status, county, township, village_code, village_id, site_id, origin_id, conflict in found:
            v_code, v_level, v_county, v_township = areas.get(village_id, nowhere)[:4]
            s_code, s_village, s_county, s_township, s_village_code = sites.get(site_id, nowhere)
            o_code, o_level = areas.get(origin_id, nowhere)[:2]
            if (site_id is not None and s_code is None) or (origin_id is not None and o_code is None):
                continue  # deleted since: the full path reports it
            if (heads and conflict) or v_level != AreaLevel.VILLAGE:
                continue
            if (v_county, v_township, v_code) != (county, township, village_code):
                continue
            if not ctx.in_scope(county, township, village_code):
                continue
            if site_id is not None and (
                s_village != village_id or not ctx.in_scope(s_county, s_township, s_village_code)
            ):
                continue
            if origin_id is not None and o_level == AreaLevel.CITY:
                continue
            for row in by_digest[digest]:
                cells = row.cells
                if not same_code(memo["village"], parse["village"], cells["现居村社区代码"], v_code):
                    continue
                if "安置点编码" in headers and not same_code(memo["site"], parse["site"], cells["安置点编码"], s_code):
                    continue
                if "迁出地代码" in headers and not same_code(
                    memo["origin"], parse["origin"], cells["迁出地代码"], o_code
                ):
                    continue
                row.key, row.action = (code,), SKIPPED
                row.existing = Known(pk, status)

    def load(self, ctx: Context, rows: list[ImportRow]) -> None:
        rows = [row for row in rows if row.action != SKIPPED]
        ctx.load_areas([row.values["village"] for row in rows] + [row.values.get("origin") or "" for row in rows])
        existing = cast(list[Household], fetch_instances(Household, "code", {row.key[0] for row in rows}))
        ctx.existing = {(h.code,): h for h in existing}
        site_codes = {row.values.get("site") for row in rows} - {None, ""}
        ctx.data["sites"] = {site.code: site for site in fetch(Site.objects.all(), "code", site_codes)}
        heads: dict[int, tuple[str, str]] = {}
        household_ids = {household.pk for household in ctx.existing.values()}
        for batch in chunks(sorted(household_ids)):
            for household_id, hash_, name in Person.objects.filter(
                household_id__in=batch, relation=Relation.HEAD, status=RecordStatus.ACTIVE
            ).values_list("household_id", "id_number_hash", "name"):
                heads[household_id] = (hash_, name)
        ctx.data["heads"] = heads

    def resolve(self, ctx: Context, row: ImportRow) -> None:
        if row.action == SKIPPED:
            return  # checked by ``unchanged``
        values = row.values
        existing = ctx.existing.get(row.key)
        if existing is not None and not ctx.record_in_scope(existing):
            ctx.error(row, "户编号", "该户编号已在系统中登记，请联系县级管理员。")
            return
        village = ctx.village(row, "现居村社区代码", values["village"])
        if village is None:
            return
        if existing is not None and existing.village_id != village.id:
            ctx.error(
                row,
                "现居村社区代码",
                f"户 {existing.code} 现居 {existing.village_code}：更改现居村社区请使用“迁移”功能，不能通过导入更改。",
            )
            return
        attrs: dict[str, Any] = {"village_id": village.id}
        set_path(attrs, village)
        skip = {"village", "site", "origin", "head_id", "phone"}
        attrs.update({name: value for name, value in values.items() if name not in skip})
        if "site" in values:
            attrs["site_id"] = self._site(ctx, row, values["site"], village)
        if "origin" in values:
            attrs["origin_id"] = self.origin(ctx, row, values["origin"])
        if "head_id" in values:
            head_id = values["head_id"]
            attrs["head_id_hash"] = blind_index(head_id)
            row.secrets["head_id"] = head_id
            head = ctx.data["heads"].get(existing.pk) if existing is not None else None
            if head_id and head is not None and head[0] != attrs["head_id_hash"]:
                ctx.error(
                    row,
                    "户主身份证号",
                    # No ID fragment in the message: error rows are stored (issue 17).
                    f"与家庭成员中的户主 {head[1]} 的身份证号不一致：以家庭成员表为准，请改正或留空。",
                )
        if "phone" in values:
            attrs["phone_masked"] = mask_phone(values["phone"])
            row.secrets["phone"] = values["phone"]
        row.existing, row.attrs = existing, attrs

    @staticmethod
    def _site(ctx: Context, row: ImportRow, code: str, village: AreaInfo) -> int | None:
        if not code:
            return None
        site = ctx.data["sites"].get(code)
        if site is None or not ctx.record_in_scope(site):
            ctx.error(row, "安置点编码", f"安置点编码“{code}”不存在，请核对（分散安置请留空）。")
            return None
        if site.village_id != village.id:
            ctx.error(
                row,
                "安置点编码",
                f"安置点 {code} 位于 {site.village_code}，不在现居村社区 {village.code}："
                "请核对安置点编码或现居村社区代码。",
            )
            return None
        return site.pk

    def check_broken(self, ctx: Context, rows: list[ImportRow]) -> None:
        check_references(ctx, rows, {"village": "village", "site": "site", "origin": "origin"})

    @staticmethod
    def origin(ctx: Context, row: ImportRow, code: str) -> int | None:
        if not code:
            return None
        info = ctx.area(code)
        if info is None:
            ctx.error(row, "迁出地代码", f"迁出地代码“{code}”不存在，请核对区划代码。")
            return None
        if info.level == AreaLevel.CITY:
            ctx.error(row, "迁出地代码", "迁出地应为县级及以下区划（县、乡镇或村），请填写更具体的代码。")
            return None
        return info.id

    def complete(self, row: ImportRow, instance: Any, changed: list[str] | None) -> None:
        if "head_id" in row.secrets and (changed is None or "head_id_hash" in changed):
            instance.head_id_encrypted = encrypt(row.secrets["head_id"])
            if changed is not None:
                changed.append("head_id_encrypted")
                row.attrs["head_id_encrypted"] = instance.head_id_encrypted
        if "phone" in row.secrets:
            phone = row.secrets["phone"]
            if changed is None:
                instance.phone_encrypted = encrypt(phone)
            elif "phone_masked" in changed or decrypt(instance.phone_encrypted) != phone:
                row.attrs["phone_encrypted"] = encrypt(phone)
                changed.append("phone_encrypted")
                if "phone_masked" not in changed:
                    changed.append("phone_masked")

    def export_queryset(self, ctx: Context) -> Any:
        return scoped(Household.objects.select_related("village", "site", "origin").order_by("code"), ctx)


# -- persons ----------------------------------------------------------------------------------


HOUSEHOLD_REFERENCE_FIELDS = ("id", "code", "village_id", "county_code", "township_code", "village_code")


def load_households(ctx: Context, codes: set[str]) -> None:
    fields = (*HOUSEHOLD_REFERENCE_FIELDS, "head_id_hash")
    found = fetch_instances(Household, "code", codes - {""}, only=fields)
    ctx.data["households"] = {h.code: h for h in cast(list[Household], found)}


def household_for(ctx: Context, row: ImportRow, header: str, code: str) -> Household | None:
    household = ctx.data["households"].get(code)
    if household is None or not ctx.record_in_scope(household):
        ctx.error(row, header, f"户编号“{code}”不存在，请先导入搬迁户，或核对户编号。")
        return None
    return household


def check_references(ctx: Context, rows: list[ImportRow], fields: dict[str, str]) -> None:
    """``Kind.check_broken``: the codes that parsed in rows with cell errors, resolved as ``load`` and
    ``resolve`` do for whole rows — batched, one query per kind of reference — each refusal on its
    column. ``fields``: row value name → "village", "origin", "household" or "site"."""

    def typed(reference: str) -> set[str]:
        return {
            str(row.values[name])
            for row in rows
            for name, ref in fields.items()
            if ref == reference and row.values.get(name)
        }

    ctx.load_areas(typed("village") | typed("origin"))
    households = ctx.data.setdefault("households", {})
    wanted = typed("household") - set(households)
    if wanted:
        queryset = Household.objects.only(*HOUSEHOLD_REFERENCE_FIELDS, "head_id_hash")
        households.update({h.code: h for h in fetch(queryset, "code", wanted)})
    sites = ctx.data.setdefault("sites", {})
    wanted = typed("site") - set(sites)
    if wanted:
        sites.update({site.code: site for site in fetch(Site.objects.all(), "code", wanted)})
    for row in rows:
        for name, reference in fields.items():
            code = row.values.get(name)
            if not code:
                continue
            header = ctx.kind.column_by_field[name].header
            if reference == "village":
                ctx.village(row, header, code)
            elif reference == "origin":
                HouseholdsKind.origin(ctx, row, code)
            elif reference == "household":
                household_for(ctx, row, header, code)
            else:
                site_for(ctx, row, header, code)


ACTIVE = str(RecordStatus.ACTIVE)


def person_active(status: str) -> bool:
    return status == ACTIVE  # a plain str: comparing with the enum member is ~4x slower


@dataclass(slots=True)  # one per household of the file: 280,000 in a 1,000,000-row file
class Family:
    """``PersonsKind._track_heads``'s compact state of one household."""

    code: str
    first_row: int
    first_cell: str
    others: dict[int, tuple[str, str]]  # active members in the database the file has not named yet
    active: int = 0  # active rows of the file
    heads: list[tuple[int, str, str]] = field(default_factory=list)  # the file's active heads


PERSON_READ = frozenset(
    {"household_id", "county_code", "township_code", "village_code", "id_number_hash", "sex", "birth_date"}
    | {"status", "relation", "employment", "name", "import_digest"}
)


def person_known_sql() -> str:
    """``PersonsKind.unchanged``'s read: the persons by fingerprint with their household, and whether
    another person holds the same ID number (asked of inactive persons only: an active one is the
    only active holder of its number, so ``resolve`` would choose it whatever others there are)."""
    person, household = Person._meta.db_table, Household._meta.db_table
    return (
        "SELECT p.import_digest, p.id, p.id_number_hash, p.household_id, p.status, p.relation, p.name, "  # noqa: S608 - the models' tables
        "p.labour, p.employment, p.county_code, p.township_code, p.village_code, "
        "h.code, h.county_code, h.township_code, h.village_code, h.head_id_hash, "
        "CASE WHEN p.status = %s THEN FALSE ELSE EXISTS "
        f"(SELECT 1 FROM {person} t WHERE t.id_number_hash = p.id_number_hash AND t.id <> p.id) END "
        f"FROM {person} p JOIN {household} h ON h.id = p.household_id"
    )


class PersonsKind(Kind):
    name = "persons"
    label = "家庭成员"
    model = Person
    streams = True
    skips = True
    roles = FIELD_STAFF
    columns = [
        Column(
            "身份证号",
            "id_number",
            parse_id_number,
            key=True,
            secret="id",
            getter=secret_getter("id_number_encrypted"),
        ),
        text("姓名", "name", 50, required=True),
        Column("户编号", "household", record_code, required=True, getter=related_code("household")),
        choice("与户主关系", "relation", Relation, required=True),
        choice("状态", "status", RecordStatus, default=RecordStatus.ACTIVE),
        choice("劳动能力", "labour", Labour, required=True),
        yes_no("就业意愿", "wants_work"),
        choice("就业状态", "employment", Employment, default=Employment.UNEMPLOYED),
        Column("就业信息更新日期", "employment_checked_on", past_date, default=None, required_column=True),
        text("务工地点", "work_place", 100),
        yes_no("交通补助已发放", "transport_subsidy"),
        yes_no("培训意愿", "wants_training"),
        Column("最近培训日期", "trained_on", past_date, default=None),
        choice("在校情况", "schooling", Schooling, default=Schooling.NOT_IN_SCHOOL),
        yes_no("困难学生", "hardship_student"),
        yes_no("已获资助", "student_aid"),
        yes_no("基本医疗保险", "medical_insurance"),
        yes_no("家庭医生签约", "family_doctor"),
    ]

    def make_key(self, ctx: Context, row: ImportRow) -> tuple[Any, ...]:
        row.extra["hash"] = blind_index(row.values["id_number"])
        return (row.extra["hash"],)

    def unchanged(self, ctx: Context, rows: list[ImportRow]) -> None:
        """Skipped when the person holds the row's fingerprint, is the only person with that ID number
        (else ``resolve`` chooses among them), still has the path of the household the row names, and
        that household is in the user's scope. What ``check_rows`` and the 户主 rule read is kept on
        the row (``attrs``, ``extra``), as ``resolve`` would set it."""
        by_digest = skip_candidates(rows)
        parse = self.column_by_field["household"].parse
        memo: dict[Any, str | None] = {}
        households: dict[int, Any] = {}  # Known, or None outside the user's area
        for (digest, pk, hash_, household_id, status, relation, name, labour, employment, county, township,
             village, code, h_county, h_township, h_village, head_hash, twin) in select_in(
            Person, person_known_sql(), "p.import_digest", by_digest, [str(RecordStatus.ACTIVE)], batch_size=CHUNK_ROWS
        ):  # fmt: skip
            if twin or (county, township, village) != (h_county, h_township, h_village):
                continue
            household = households.get(household_id, households)
            if household is households:
                in_scope = ctx.in_scope(county, township, village)
                household = Known(household_id, "", code=code, head_id_hash=head_hash) if in_scope else None
                households[household_id] = household
            if household is None:
                continue
            for row in by_digest[digest]:
                if not same_code(memo, parse, row.cells["户编号"], code):
                    continue
                row.key, row.action = (hash_,), SKIPPED
                row.existing = Known(pk, status, household_id)
                row.attrs = {"household_id": household_id, "relation": relation, "name": name, "status": status}
                row.extra = {"household": household, "others": [], "labour": labour, "employment": employment}

    def load(self, ctx: Context, rows: list[ImportRow]) -> None:
        skipped = {row.attrs["household_id"] for row in rows if row.action == SKIPPED}
        rows = [row for row in rows if row.action != SKIPPED]
        load_households(ctx, {row.values["household"] for row in rows})
        by_hash: dict[str, list[Person]] = defaultdict(list)
        # Only what the comparison and the checks read: a changed record is read in full to be written
        # (``Kind.upsert``); the timestamps and ciphertexts of 72,000 unchanged ones are not.
        compared = {column.field for column in self.columns} | PERSON_READ
        hashes = {row.key[0] for row in rows}
        for person in cast(list[Person], fetch_instances(Person, "id_number_hash", hashes, only=tuple(compared))):
            by_hash[person.id_number_hash].append(person)
        ctx.data["by_hash"] = by_hash
        household_ids = {h.pk for h in ctx.data["households"].values()} | skipped
        members: dict[int, dict[int, tuple[str, str]]] = defaultdict(dict)
        table = Person._meta.db_table
        found = select_in(
            Person,
            f"SELECT id, household_id, relation, name FROM {table}",  # noqa: S608 - the model's table
            "household_id",
            household_ids,
            [str(RecordStatus.ACTIVE)],
            where="status = %s AND ",
            array_type="bigint",
        )
        for pk, household_id, relation, name in sorted(found):  # each household's in id order
            members[household_id][pk] = (relation, name)
        ctx.data["members"] = members

    def resolve(self, ctx: Context, row: ImportRow) -> None:
        if row.action == SKIPPED:  # checked by ``unchanged``; its warning, in the file's order
            self.labour_warning(ctx, row, row.extra["labour"], row.extra["employment"])
            return
        values = row.values
        household = household_for(ctx, row, "户编号", values["household"])
        if household is None:
            return
        candidates = ctx.data["by_hash"].get(row.key[0], ())
        if len(candidates) == 1 and candidates[0].household_id == household.pk:  # a re-imported member
            row.existing, row.extra["others"] = candidates[0], []
        else:
            own = [person for person in candidates if person.household_id == household.pk]
            own.sort(key=lambda person: (person_active(person.status), person.pk), reverse=True)
            row.existing = own[0] if own else None
            row.extra["others"] = [p for p in candidates if p is not row.existing and person_active(p.status)]
        id_number = values["id_number"]
        attrs = dict(values)
        del attrs["id_number"], attrs["household"]
        attrs.update(
            household_id=household.pk,
            county_code=household.county_code,
            township_code=household.township_code,
            village_code=household.village_code,
            id_number_hash=row.key[0],
            sex=id_sex(id_number),
            birth_date=id_birth_date(id_number),
        )
        row.attrs = attrs
        row.extra["household"] = household
        self.labour_date(ctx, row)
        employment = values.get("employment", row.existing.employment if row.existing else Employment.UNEMPLOYED)
        self.labour_warning(ctx, row, values["labour"], employment)

    @staticmethod
    def labour_warning(ctx: Context, row: ImportRow, labour: str, employment: str) -> None:
        if labour in (Labour.LOST, Labour.NONE) and employment != Employment.UNEMPLOYED:
            ctx.warn(row, "就业状态", f"数据质量提示：劳动能力为“{labour}”，就业状态却为“{employment}”，请核实。")

    @staticmethod
    def labour_date(ctx: Context, row: ImportRow) -> None:
        """A member of working capacity needs the date employment was last checked (a blank cell;
        a date that did not parse has its own error)."""
        labour, values = row.values.get("labour"), row.values
        if labour in LABOUR_FORCE and "employment_checked_on" in values and values["employment_checked_on"] is None:
            ctx.error(
                row,
                "就业信息更新日期",
                f"劳动能力为“{labour}”时必须填写就业信息更新日期（最近一次核实就业情况的日期）。",
            )

    def check_broken(self, ctx: Context, rows: list[ImportRow]) -> None:
        check_references(ctx, rows, {"household": "household"})
        for row in rows:
            self.labour_date(ctx, row)

    def check_rows(self, ctx: Context, rows: list[ImportRow]) -> None:
        final_status = {row.existing.pk: row.attrs.get("status", row.existing.status) for row in rows if row.existing}
        foreign: list[tuple[ImportRow, Person]] = []
        for row in rows:
            status = row.attrs.get("status", row.existing.status if row.existing else RecordStatus.ACTIVE)
            row.extra["status"] = status
            if not person_active(status):
                continue
            for other in row.extra["others"]:
                if person_active(final_status.get(other.pk, other.status)):
                    if ctx.record_in_scope(other):
                        ctx.error(
                            row,
                            "身份证号",
                            f"该身份证号已登记在户 {other.household.code}（{other.name}），"
                            "一人只能在一户中为“正常”状态；迁户请使用“成员迁移”功能。",
                        )
                    else:
                        foreign.append((row, other))
                    break
        self._collect_foreign(ctx, rows, foreign)
        self._track_heads(ctx, rows)

    @staticmethod
    def _collect_foreign(ctx: Context, rows: list[ImportRow], foreign: list[tuple[ImportRow, Person]]) -> None:
        """Numbers registered outside the user's area: the rows fail (not written); whether they are
        named or the file is refused is decided once for the whole file (``finish``)."""
        by_hash = ctx.data["by_hash"]
        new_to_area = sum(
            1
            for row in rows
            # A skipped row's person is in the area (``unchanged``).
            if row.action != SKIPPED and not any(ctx.record_in_scope(p) for p in by_hash.get(row.key[0], []))
        )
        ctx.data["new_to_area"] = ctx.data.get("new_to_area", 0) + new_to_area
        reported = ctx.data.setdefault("foreign", [])
        for row, person in foreign:
            reported.append((person.pk, ctx.row_error(row, "身份证号", "该身份证号已在系统中登记，请联系县级管理员。")))

    def finish_outside(self, ctx: Context) -> bool:
        return bool(ctx.data.get("foreign"))

    def finish(self, ctx: Context) -> None:
        self._report_foreign(ctx)
        self._heads_errors(ctx)

    @staticmethod
    def _report_foreign(ctx: Context) -> None:
        """Numbers registered outside the user's area get the neutral message, logged and throttled per
        user (issue 17 finding 12); above the limit the whole file is refused without saying which."""
        foreign = ctx.data.pop("foreign", [])
        refusal = import_foreign_ids(
            actor=ctx.user, person_ids=[pk for pk, _error in foreign], new_to_area=ctx.data.pop("new_to_area", 0),
            label=f"导入{ctx.kind.label}",
        )  # fmt: skip
        if refusal:
            raise FileError(refusal)
        ctx.errors.extend(error for _pk, error in foreign)

    @staticmethod
    def _track_heads(ctx: Context, rows: list[ImportRow]) -> None:
        """Per household of the file, across chunks, what the 户主 rule needs at the end: its active
        members in the database when the file first named it (minus those the file names), the
        file's active rows and its heads. A household's rows may be anywhere in the file."""
        families: dict[int, Family] = ctx.data.setdefault("families", {})
        members = ctx.data["members"]
        for row in rows:
            household_id = row.attrs["household_id"]
            household = row.extra["household"]
            family = families.get(household_id)
            if family is None:
                family = families[household_id] = Family(
                    household.code, row.number, row.cells.get("与户主关系", ""), dict(members.get(household_id, {}))
                )
            if row.existing is not None:
                family.others.pop(row.existing.pk, None)
            if not person_active(row.extra["status"]):
                continue
            family.active += 1
            if row.attrs["relation"] == Relation.HEAD:
                family.heads.append((row.number, row.attrs["name"], row.cells.get("与户主关系", "")))
                if household.head_id_hash and household.head_id_hash != row.key[0]:
                    ctx.warn(
                        row,
                        "身份证号",
                        f"与搬迁户表中户 {household.code} 的户主身份证号不同，以家庭成员表为准。",
                    )

    @staticmethod
    def _heads_errors(ctx: Context) -> None:
        """One active 户主 per household with active members, the file and the database together."""
        for family in ctx.data.pop("families", {}).values():
            heads = [name for relation, name in family.others.values() if relation == Relation.HEAD]
            if len(heads) + len(family.heads) > 1:
                names = "、".join(heads + [name for _number, name, _cell in family.heads])
                for number, _name, cell in family.heads:
                    ctx.error(
                        ImportRow(number, {"与户主关系": cell}),
                        "与户主关系",
                        f"户 {family.code} 将有多名状态为“正常”的户主（{names}），每户只能有一名户主。",
                    )
            elif (family.active or family.others) and not heads and not family.heads:
                ctx.error(
                    ImportRow(family.first_row, {"与户主关系": family.first_cell}),
                    "与户主关系",
                    f"户 {family.code} 没有状态为“正常”的户主：请把其中一人的与户主关系填为“户主”。",
                )

    def defer(
        self, ctx: Context, creates: list[ImportRow], updates: list[ImportRow]
    ) -> tuple[list[ImportRow], list[ImportRow]]:
        """A row taking a household's 户主 place while another member holds it in the database waits
        for the end (a later chunk may release that place; the unique index is checked per row)."""
        heads = {
            household_id: pk
            for household_id, members in ctx.data["members"].items()
            for pk, (relation, _name) in members.items()
            if relation == Relation.HEAD
        }
        for row in updates:
            if row.instance.pk == heads.get(row.instance.household_id) and not self._is_head(row.instance):
                del heads[row.instance.household_id]
        held: tuple[list[ImportRow], list[ImportRow]] = ctx.data.setdefault("held", ([], []))
        now: tuple[list[ImportRow], list[ImportRow]] = ([], [])
        for index, rows in enumerate((creates, updates)):
            for row in rows:
                person = row.instance
                takes = self._is_head(person) and (
                    row.existing is None
                    or row.before.get("relation", Relation.HEAD) != Relation.HEAD
                    or not person_active(row.before.get("status", RecordStatus.ACTIVE))
                )
                holder = heads.get(person.household_id)
                if takes and holder is not None and holder != person.pk:
                    held[index].append(row)
                    continue
                if takes:
                    heads[person.household_id] = person.pk if person.pk is not None else -row.number
                now[index].append(row)
        return now

    def deferred(self, ctx: Context) -> tuple[list[ImportRow], list[ImportRow]]:
        return ctx.data.pop("held", ([], []))

    @staticmethod
    def _is_head(person: Person) -> bool:
        return person.relation == Relation.HEAD and person_active(person.status)

    def prepare(self, ctx: Context, rows: list[ImportRow], *, ahead: bool) -> None:
        """Also, ahead of the write in the background, each ID number's ciphertext: a created person
        needs it (``complete``), and that CPU (about 11 µs a row) no longer waits for the database."""
        super().prepare(ctx, rows, ahead=ahead)
        if ahead:
            for row in rows:
                if row.valid and row.action != SKIPPED:
                    row.extra["id_cipher"] = encrypt(row.values["id_number"])

    def complete(self, row: ImportRow, instance: Any, changed: list[str] | None) -> None:
        if changed is None:
            instance.id_number_encrypted = row.extra.pop("id_cipher", None) or encrypt(row.values["id_number"])

    def write(self, creates: list[ImportRow], updates: list[ImportRow]) -> None:
        # Unique indexes are checked row by row: free an ID number or a 户主 place before taking it.
        def releases(row: ImportRow) -> bool:
            before_status = row.before.get("status", row.instance.status)
            before_relation = row.before.get("relation", row.instance.relation)
            return person_active(before_status) and (
                not person_active(row.instance.status)
                or (before_relation == Relation.HEAD and row.instance.relation != Relation.HEAD)
            )

        self.upsert([row for row in updates if releases(row)])
        self.upsert([row for row in updates if not releases(row)])
        self.insert([row.instance for row in creates])

    def history_codes(self, row: ImportRow) -> tuple[str, str, str]:
        person = row.instance
        return person.county_code, person.township_code, row.extra["household"].code  # no ID fragment

    def export_queryset(self, ctx: Context) -> Any:
        return scoped(Person.objects.select_related("household").order_by("household__code", "id"), ctx)


# -- incomes ----------------------------------------------------------------------------------


class IncomesKind(Kind):
    name = "incomes"
    label = "收入"
    model = Income
    streams = True
    roles = FIELD_STAFF
    change_family = "incomes"
    year_field = "year"
    columns = [
        Column("户编号", "household", record_code, key=True, getter=related_code("household")),
        Column("年度", "year", int_parser(2016, this_year, "年度"), key=True),
        Column("家庭人口数", "size", household_size, required=True),
        money("人均可支配收入", "per_capita_income", required=True),
    ]

    def load(self, ctx: Context, rows: list[ImportRow]) -> None:
        load_households(ctx, {row.values["household"] for row in rows})
        ids = {h.pk: h.code for h in ctx.data["households"].values()}
        ctx.existing = {
            (ids[income.household_id], income.year): income
            for income in fetch(Income.objects.all(), "household_id", set(ids))
        }

    def resolve(self, ctx: Context, row: ImportRow) -> None:
        household = household_for(ctx, row, "户编号", row.values["household"])
        if household is None:
            return
        row.existing = ctx.existing.get(row.key)
        row.extra["household"] = household
        row.attrs = {"household_id": household.pk, "year": row.values["year"], "size": row.values["size"]}
        row.attrs["per_capita_income"] = row.values["per_capita_income"]

    def check_broken(self, ctx: Context, rows: list[ImportRow]) -> None:
        check_references(ctx, rows, {"household": "household"})

    def history_codes(self, row: ImportRow) -> tuple[str, str, str]:
        household = row.extra["household"]
        return household.county_code, household.township_code, f"{household.code}/{row.instance.year}"

    def export_queryset(self, ctx: Context) -> Any:
        queryset = Income.objects.select_related("household").order_by("household__code", "year")
        area = ctx.scope_area
        if area is None:
            return queryset
        field = PATH_FIELDS.get(area.level, "village_code")
        return queryset.filter(**{f"household__{field}": area.code})


# -- grievances -------------------------------------------------------------------------------


def load_sites(ctx: Context, codes: set[str]) -> None:
    ctx.data["sites"] = {site.code: site for site in fetch(Site.objects.all(), "code", codes - {""})}


def site_for(ctx: Context, row: ImportRow, header: str, code: str) -> Site | None:
    site = ctx.data["sites"].get(code)
    if site is None or not ctx.record_in_scope(site):
        ctx.error(row, header, f"安置点编码“{code}”不存在，请核对。")
        return None
    return site


class GrievancesKind(Kind):
    name = "grievances"
    label = "信访舆情"
    model = Grievance
    streams = True
    roles = FIELD_STAFF
    columns = [
        Column("事项编号", "code", record_code, key=True),
        Column("安置点编码", "site", record_code, getter=related_code("site")),
        Column("户编号", "household", record_code, getter=related_code("household")),
        Column(
            "所在村社区代码",
            "village",
            area_code_parser(AreaLevel.VILLAGE),
            required=True,
            getter=related_code("village"),
        ),
        Column("受理日期", "received_on", past_date, default=None, required=True),
        choice("事项类别", "topic", GrievanceTopic, default=GrievanceTopic.OTHER),
        Column("反映内容", "content", free_text),
        Column("办理情况", "handling", free_text),
        choice("办理状态", "status", GrievanceStatus, required=True),
        Column("办结日期", "resolved_on", past_date, default=None, required_column=True),
        yes_no("村社区内解决", "resolved_in_village"),
    ]

    def load(self, ctx: Context, rows: list[ImportRow]) -> None:
        ctx.load_areas(row.values["village"] for row in rows)
        load_sites(ctx, {row.values.get("site", "") for row in rows})
        load_households(ctx, {row.values.get("household", "") for row in rows})
        ctx.existing = {(g.code,): g for g in fetch(Grievance.objects.all(), "code", {row.key[0] for row in rows})}

    def resolve(self, ctx: Context, row: ImportRow) -> None:
        values = row.values
        existing = ctx.existing.get(row.key)
        if existing is not None and not ctx.record_in_scope(existing):
            ctx.error(row, "事项编号", "该事项编号已在系统中登记，请联系县级管理员。")
            return
        village = ctx.village(row, "所在村社区代码", values["village"])
        attrs = {name: value for name, value in values.items() if name not in ("site", "household", "village")}
        site_id = existing.site_id if existing else None
        household_id = existing.household_id if existing else None
        if values.get("site"):
            site = site_for(ctx, row, "安置点编码", values["site"])
            site_id = site.pk if site else None
            if site is not None and village is not None and site.village_id != village.id:
                ctx.error(
                    row, "所在村社区代码", f"与安置点 {site.code} 所在村社区（{site.village_code}）不一致，请核对。"
                )
        elif "site" in values:
            site_id = None
        if values.get("household"):
            household = household_for(ctx, row, "户编号", values["household"])
            household_id = household.pk if household else None
            if household is not None and village is not None and household.village_id != village.id:
                ctx.error(
                    row,
                    "所在村社区代码",
                    f"与户 {household.code} 的现居村社区（{household.village_code}）不一致，请核对。",
                )
        elif "household" in values:
            household_id = None
        status = values["status"]
        resolved_on = values.get("resolved_on")
        if status == GrievanceStatus.RESOLVED and resolved_on is None:
            ctx.error(row, "办结日期", "办理状态为“已办结”时必须填写办结日期。")
        if resolved_on is not None and values.get("received_on") and resolved_on < values["received_on"]:
            ctx.error(row, "办结日期", f"办结日期不能早于受理日期（{values['received_on'].isoformat()}）。")
        if village is None:
            return
        attrs.update(site_id=site_id, household_id=household_id, village_id=village.id)
        set_path(attrs, village)
        row.existing, row.attrs = existing, attrs

    def check_broken(self, ctx: Context, rows: list[ImportRow]) -> None:
        check_references(ctx, rows, {"village": "village", "site": "site", "household": "household"})

    def export_queryset(self, ctx: Context) -> Any:
        return scoped(Grievance.objects.select_related("site", "household", "village").order_by("code"), ctx)


# -- follow-up actions ------------------------------------------------------------------------


class ActionsKind(Kind):
    name = "actions"
    label = "帮扶台账"
    model = FollowUpAction
    streams = True
    roles = FIELD_STAFF
    one_of = ("户编号", "安置点编码")
    columns = [
        Column("台账编号", "code", record_code, key=True),
        Column("户编号", "household", record_code, getter=related_code("household")),
        Column("安置点编码", "site", record_code, getter=related_code("site")),
        Column(
            "身份证号",
            "person",
            parse_id_number,
            secret="id",
            getter=lambda action, masked: (
                secret_getter("id_number_encrypted")(action.person, masked) if action.person_id else ""
            ),
        ),
        choice("帮扶类别", "kind", ActionKind, default=ActionKind.OTHER),
        Column("指标代码", "indicator", indicator_code),
        Column("措施内容", "description", free_text, required=True),
        Column("责任人", "owner", max_length(50, redact=True), required=True),
        Column("期限", "due_on", due_date, default=None),
        choice("办理状态", "status", ActionStatus, default=ActionStatus.TODO),
        Column("完成日期", "done_on", past_date, default=None, required_column=True),
        Column("走访记录", "visit_note", free_text),
    ]

    def load(self, ctx: Context, rows: list[ImportRow]) -> None:
        load_sites(ctx, {row.values.get("site", "") for row in rows})
        load_households(ctx, {row.values.get("household", "") for row in rows})
        ctx.existing = {(a.code,): a for a in fetch(FollowUpAction.objects.all(), "code", {row.key[0] for row in rows})}
        hashes = {blind_index(row.values["person"]) for row in rows if row.values.get("person")}
        members: dict[tuple[int, str], Person] = {}
        for person in sorted(
            fetch(Person.objects.all(), "id_number_hash", hashes), key=lambda p: (person_active(p.status), p.pk)
        ):
            members[(person.household_id, person.id_number_hash)] = person
        ctx.data["members"] = members
        extra_households = {a.household_id for a in ctx.existing.values() if a.household_id}
        extra_sites = {a.site_id for a in ctx.existing.values() if a.site_id}
        ctx.data["households_by_id"] = {h.pk: h for h in fetch(Household.objects.all(), "pk", extra_households)}
        ctx.data["households_by_id"].update({h.pk: h for h in ctx.data["households"].values()})
        ctx.data["sites_by_id"] = {s.pk: s for s in fetch(Site.objects.all(), "pk", extra_sites)}
        ctx.data["sites_by_id"].update({s.pk: s for s in ctx.data["sites"].values()})

    def resolve(self, ctx: Context, row: ImportRow) -> None:
        values = row.values
        existing = ctx.existing.get(row.key)
        if existing is not None and not ctx.record_in_scope(existing):
            ctx.error(row, "台账编号", "该台账编号已在系统中登记，请联系县级管理员。")
            return
        reserved = reserved_action_code(row.key[0]) if existing is None else None
        if reserved:
            ctx.error(row, "台账编号", reserved)
            return
        household = (
            ctx.data["households_by_id"].get(existing.household_id) if existing and existing.household_id else None
        )
        site = ctx.data["sites_by_id"].get(existing.site_id) if existing and existing.site_id else None
        if "household" in values:
            household = household_for(ctx, row, "户编号", values["household"]) if values["household"] else None
        if "site" in values:
            site = site_for(ctx, row, "安置点编码", values["site"]) if values["site"] else None
        if not row.valid:
            return
        anchor = household or site
        if anchor is None:
            ctx.error(
                row,
                "户编号" if "户编号" in ctx.headers else "安置点编码",
                "请填写户编号；安置点层面的工作（设施、治理）可只填安置点编码。",
            )
            return
        attrs = {name: value for name, value in values.items() if name not in ("household", "site", "person")}
        attrs["household_id"] = household.pk if household else None
        attrs["site_id"] = site.pk if site else None
        if "person" in values:
            attrs["person_id"] = None
            if values["person"]:
                person = ctx.data["members"].get((household.pk, blind_index(values["person"]))) if household else None
                if household is None:
                    ctx.error(row, "身份证号", "填写身份证号时须同时填写该成员所在的户编号。")
                elif person is None:
                    ctx.error(row, "身份证号", f"该身份证号不是户 {household.code} 的家庭成员，请核对。")
                else:
                    attrs["person_id"] = person.pk
        status = values.get("status", existing.status if existing else ActionStatus.TODO)
        if status == ActionStatus.DONE and values.get("done_on") is None:
            ctx.error(row, "完成日期", "办理状态为“已完成”时必须填写完成日期。")
        attrs["county_code"], attrs["township_code"], attrs["village_code"] = (
            anchor.county_code,
            anchor.township_code,
            anchor.village_code,
        )
        row.existing, row.attrs = existing, attrs

    def check_broken(self, ctx: Context, rows: list[ImportRow]) -> None:
        check_references(ctx, rows, {"household": "household", "site": "site"})

    def export_queryset(self, ctx: Context) -> Any:
        return scoped(FollowUpAction.objects.select_related("household", "site", "person").order_by("code"), ctx)


for kind_class in (AreasKind, SitesKind, HouseholdsKind, PersonsKind, IncomesKind, GrievancesKind, ActionsKind):
    register(kind_class())
