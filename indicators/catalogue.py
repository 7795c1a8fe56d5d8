"""The catalogue of indicators.md and the default assessment weights of assessment.md, as data.

``catalogue_load`` writes it into ``Measure`` and ``Indicator`` (data migration 0003, and again at
any time: it is idempotent and updates names, targets and leads in place).
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from indicators.models import Indicator, Measure

MEASURES: tuple[tuple[int, str], ...] = (
    (1, "增强集中安置区治理能力"),
    (2, "推动产业帮扶全覆盖"),
    (3, "推动稳岗就业增收提质增效"),
    (4, "提升住房保障服务水平"),
    (5, "提升教育水平"),
    (6, "巩固医疗保障成果"),
    (7, "推动政策兜底应保尽保"),
    (8, "提升配套服务水平"),
    (9, "建立后扶投入保障长效机制"),
    (10, "建立健全后扶工作考核评价机制"),
)

DIMENSIONS: tuple[tuple[str, int], ...] = (
    ("基层党建", 10),
    ("社区治理", 15),
    ("配套设施", 15),
    ("就业帮扶", 20),
    ("产业发展", 15),
    ("防返贫监测", 10),
    ("公共服务", 10),
    ("文化建设", 5),
)


@dataclass(frozen=True)
class Entry:
    code: str
    name: str
    kind: str
    target: Decimal | None
    lead: str
    unit_noun: str
    dimension: str
    weight: int

    @property
    def measure_number(self) -> int:
        return int(self.code[1:].split("-")[0])


_100 = Decimal(100)
_0 = Decimal(0)

# Catalogue order is the order of this tuple (exports sort by it).
CATALOGUE: tuple[Entry, ...] = (
    Entry("M1-1", "基层党组织覆盖率", "rate", _100, "市委组织部", "个", "基层党建", 4),
    Entry("M1-2", "群众自治组织覆盖率", "rate", _100, "市委组织部", "个", "社区治理", 3),
    Entry("M1-3", "800人以上安置区一站式服务中心覆盖率", "rate", _100, "市乡村振兴局", "个", "社区治理", 3),
    Entry("M1-4", "第一书记和工作队选派覆盖率", "rate", _100, "市委组织部", "个", "基层党建", 6),
    Entry("M1-5", "800人以上安置区治理标准化率", "rate", _100, "市乡村振兴局", "个", "社区治理", 3),
    Entry("M1-6", "信访舆情办结率", "rate", _100, "市乡村振兴局", "件", "社区治理", 3),
    Entry("M1-7", "信访问题不出村率", "rate", _100, "市乡村振兴局", "件", "社区治理", 3),
    Entry("M2-1", "一区一方案覆盖率", "rate", _100, "市农业农村局", "个", "产业发展", 3),
    Entry("M2-2", "一户一项目覆盖率", "rate", _100, "市农业农村局", "户", "产业发展", 4),
    Entry("M2-3", "安置区后扶产业基地覆盖率", "rate", _100, "市农业农村局", "个", "产业发展", 2),
    Entry("M2-4", "乡镇后扶产业园覆盖率", "rate", _100, "市乡村振兴局", "个", "产业发展", 2),
    Entry("M2-5", "产业分红受益户数", "info", None, "市乡村振兴局", "户", "", 0),
    Entry("M3-1", "就业动态管理覆盖率（一人一档）", "rate", _100, "市人社局", "人", "就业帮扶", 3),
    Entry("M3-2", "有劳动能力且有就业意愿搬迁人口就业率", "rate", _100, "市人社局", "人", "就业帮扶", 5),
    Entry("M3-3", "有劳动力家庭一户一就业率", "rate", _100, "市人社局", "户", "就业帮扶", 4),
    Entry("M3-4", "公益性岗位安置人数", "no_decrease", None, "市人社局", "人", "就业帮扶", 2),
    Entry("M3-5", "搬迁人口人均可支配收入增幅高于全市", "gap_pp", Decimal(2), "市人社局", "户", "就业帮扶", 3),
    Entry("M3-6", "建档立卡搬迁人口培训覆盖率（应培尽培）", "rate", _100, "市人社局", "人", "就业帮扶", 2),
    Entry("M3-7", "外出务工交通补助落实率", "rate", _100, "市人社局", "人", "就业帮扶", 1),
    Entry("M4-1", "住房安全隐患清零率", "rate", _100, "市住建局", "户", "配套设施", 3),
    Entry("M4-2", "500人以上安置点物业管理覆盖率", "rate", _100, "市住建局", "个", "配套设施", 2),
    Entry("M4-3", "城镇安置点完整居住社区达标率", "rate", _100, "市住建局", "个", "配套设施", 2),
    Entry("M4-4", "智慧社区数", "info", None, "市住建局", "个", "", 0),
    Entry("M5-1", "建档立卡搬迁家庭子女学前教育毛入园率", "rate", _100, "市教育局", "人", "公共服务", 2),
    Entry("M5-2", "建档立卡搬迁家庭子女九年义务教育巩固率", "rate", _100, "市教育局", "人", "公共服务", 3),
    Entry("M5-3", "困难学生资助率（应助尽助）", "rate", _100, "市教育局", "人", "公共服务", 1),
    Entry("M5-4", "800人以上安置区幼儿园配套率", "rate", _100, "市教育局", "个", "公共服务", 1),
    Entry("M6-1", "集中安置区医疗卫生服务设施覆盖率", "rate", _100, "市卫健委", "个", "配套设施", 2),
    Entry("M6-2", "家庭医生签约率", "rate", _100, "市卫健委", "人", "公共服务", 1),
    Entry("M6-3", "基本医疗保险参保率", "rate", _100, "市医保局", "人", "公共服务", 2),
    Entry("M7-1", "兜底保障应保尽保率", "rate", _100, "市民政局", "户", "防返贫监测", 4),
    Entry("M7-2", "防返贫监测帮扶覆盖率", "rate", _100, "市乡村振兴局", "户", "防返贫监测", 4),
    Entry("M7-3", "建档立卡搬迁户结对帮扶覆盖率", "rate", _100, "市乡村振兴局", "户", "防返贫监测", 2),
    Entry("M8-1", "建档立卡搬迁户自来水普及率", "rate", _100, "市水利局", "户", "配套设施", 2),
    Entry("M8-2", "季节性缺水户数", "zero", _0, "市水利局", "户", "配套设施", 1),
    Entry("M8-3", "红白喜事场所配套率", "rate", _100, "县市区政府", "个", "配套设施", 1),
    Entry("M8-4", "农具存放场所配套率", "rate", _100, "县市区政府", "个", "配套设施", 1),
    Entry("M8-5", "安置点公交通达率", "rate", _100, "县市区政府", "个", "配套设施", 1),
    Entry("M9-1", "盘活资产收益用于搬迁户比例", "rate", Decimal(80), "市财政局", "个", "产业发展", 2),
    Entry("M9-2", "后扶衔接资金增幅不低于衔接资金增幅", "gap_pp", _0, "市财政局", "个", "产业发展", 2),
    Entry("M10-1", "安置区文化活动场所覆盖率", "rate", _100, "市易扶办", "个", "文化建设", 5),
)

BY_CODE: dict[str, Entry] = {entry.code: entry for entry in CATALOGUE}
ORDER: dict[str, int] = {entry.code: position for position, entry in enumerate(CATALOGUE, start=1)}

# Finance indicators exist for county-level units and the city only.
FINANCE_CODES = frozenset({"M9-1", "M9-2"})
# Recomputed for a closed (not yet published) year when its incomes, finance or city statistics change.
YEAR_DATA_CODES = frozenset({"M3-5", "M9-1", "M9-2"})


def catalogue_load(measure_model: Any = None, indicator_model: Any = None) -> int:
    """Create or update the 10 measures and 41 indicators; return the number of indicators.

    The models may be passed in by a migration (historical models, hence ``Any``: built at migration
    time, they are not ``Measure`` and ``Indicator``); by default the current ones.
    """
    if measure_model is None or indicator_model is None:
        measure_model, indicator_model = Measure, Indicator
    measures = {}
    for number, name in MEASURES:
        measure, _ = measure_model.objects.update_or_create(number=number, defaults={"name": name})
        measures[number] = measure
    # Move orders out of the way first: ``order`` is unique and a re-load may permute it.
    existing = {indicator.code: indicator for indicator in indicator_model.objects.all()}
    offset = 1000
    for indicator in existing.values():
        indicator.order = indicator.order + offset
        indicator.save(update_fields=["order"])
    for entry in CATALOGUE:
        indicator_model.objects.update_or_create(
            code=entry.code,
            defaults={
                "name": entry.name,
                "measure": measures[entry.measure_number],
                "kind": entry.kind,
                "target": entry.target,
                "lead": entry.lead,
                "unit_noun": entry.unit_noun,
                "order": ORDER[entry.code],
                "dimension": entry.dimension,
                "weight": Decimal(entry.weight),
            },
        )
    return len(CATALOGUE)
