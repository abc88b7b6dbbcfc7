"""The demo city's cast, drawn from a fixed seed (pure): a district of 崇明区 with three
grids, their officers, grid workers and station head, ~200 businesses of every kind (the
三小 among them: 小作坊, 小餐饮, 小食杂), their licences (a few expiring or expired), a
year of visits and the complaints of the last two months."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Final

from foodtrace.demo.cast import CST, credit_code

SEED: Final = 20261202
REGION: Final = "310151"  # 上海市崇明区
DISTRICT: Final = "上海市崇明区"
STATION: Final = "城桥市场监管所"
ISSUER: Final = "上海市崇明区市场监督管理局"
GRIDS: Final = (
    ("cq-01", "城桥镇第一网格"),
    ("cq-02", "城桥镇第二网格"),
    ("cq-03", "城桥镇第三网格"),
)
STREETS: Final = ("八一路", "人民路", "东门路", "南门路", "鳌山路", "翠竹路", "寒山寺路", "西门路")
# kind, how many, 三小 category (None: a licensed business), name stems, licence prefix, scope
KINDS: Final = (
    ("restaurant", 80, "小餐饮", ("小吃店", "面馆", "馄饨铺", "饭店"), "JY2", "热食类食品制售"),
    ("retailer", 56, "小食杂", ("便利店", "食杂店", "超市", "副食店"), "JY1", "预包装食品销售"),
    ("processor", 34, "小作坊", ("豆制品作坊", "糕团作坊", "酱菜作坊"), "SC1", "豆制品、糕点"),
    ("producer", 28, None, ("农业合作社", "蔬菜基地", "家庭农场"), "SC1", "食用农产品"),
)  # fmt: skip
RESULTS: Final = (("合格", 70), ("基本合格", 22), ("不合格", 8))
EXPIRING: Final = 6  # licences that end within 30 days
EXPIRED: Final = 2


@dataclass(frozen=True)
class Person:
    party_id: str
    name: str


@dataclass(frozen=True)
class CityGrid:
    grid_id: str
    name: str
    officer: Person
    worker: Person
    head: Person


@dataclass(frozen=True)
class Business:
    party_id: str
    name: str
    kind: str
    small: str | None  # 三小 category, if one
    grid_id: str
    address: str
    licence: str
    licence_kind: str
    scope: str
    valid_from: date
    valid_until: date


@dataclass(frozen=True)
class Visit:
    party_id: str
    inspector: str
    on: date
    result: str
    acknowledged: bool


@dataclass(frozen=True)
class CityComplaint:
    party_id: str
    received_at: datetime
    category: str
    description: str
    answered: bool  # responded and given feedback
    closed: bool  # both owners confirmed and the complainant rated
    rating: int


@dataclass
class City:
    grids: list[CityGrid]
    businesses: list[Business]
    visits: list[Visit] = field(default_factory=list)
    complaints: list[CityComplaint] = field(default_factory=list)

    @property
    def staff(self) -> list[Person]:
        seen: dict[str, Person] = {}
        for g in self.grids:
            for p in (g.officer, g.worker, g.head):
                seen.setdefault(p.party_id, p)
        return list(seen.values())


def _person(n: int, name: str) -> Person:
    return Person(credit_code(REGION, f"7{n:07d}", kind="11"), name)


def city(today: date) -> City:
    """The whole city for a seeding day: the same day gives the same city."""
    rng = random.Random(SEED)
    head = _person(1, "城桥所所长 陈建国")
    surnames = "王李张刘陈杨黄赵周吴"
    grids = [
        CityGrid(
            gid,
            name,
            _person(10 + n, f"{name}监管员 {surnames[n]}明"),
            _person(20 + n, f"{name}网格员 {surnames[n + 3]}芳"),
            head,
        )
        for n, (gid, name) in enumerate(GRIDS)
    ]
    businesses: list[Business] = []
    serial = 0
    for kind, count, small, stems, prefix, scope in KINDS:
        for _ in range(count):
            serial += 1
            street = rng.choice(STREETS)
            mark = rng.choice("阿好老新福顺兴旺") + rng.choice("记家香味")
            name = f"{street}{mark}{rng.choice(stems)}"
            start = today - timedelta(days=rng.randint(200, 1500))
            until = start + timedelta(days=5 * 365)
            businesses.append(
                Business(
                    credit_code(REGION, f"{serial:08d}", kind="92" if small else "91"),
                    f"{name}{serial:03d}",
                    kind,
                    small,
                    grids[serial % len(grids)].grid_id,
                    f"{DISTRICT}城桥镇{street}{rng.randint(1, 999)}号",
                    f"{prefix}{int(REGION):06d}{serial:07d}",
                    "food_production" if prefix.startswith("SC") else "food_business",
                    scope,
                    start,
                    max(until, today + timedelta(days=60)),
                )
            )
    # a few licences near their end, two past it
    for n, b in enumerate(rng.sample(businesses, EXPIRING + EXPIRED)):
        ends = (
            today + timedelta(days=rng.randint(3, 28))
            if n < EXPIRING
            else today - timedelta(days=n)
        )
        i = businesses.index(b)
        businesses[i] = Business(**{**b.__dict__, "valid_until": ends})
    out = City(grids, businesses)
    by_grid = {g.grid_id: g for g in grids}
    weights = [w for _, w in RESULTS]
    for b in businesses:
        g = by_grid[b.grid_id]
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
            on = today - timedelta(days=rng.randint(1, 360))
            result = rng.choices([r for r, _ in RESULTS], weights)[0]
            out.visits.append(
                Visit(
                    b.party_id,
                    rng.choice((g.officer, g.worker)).party_id,
                    on,
                    result,
                    rng.random() > 0.06,
                )
            )
    out.visits.sort(key=lambda v: v.on)
    texts = (
        ("hygiene", "餐具不洁,桌面有油污"),
        ("foreign_matter", "饭菜里吃出头发"),
        ("expired", "货架上有过期的牛奶"),
        ("hygiene", "后厨有苍蝇"),
        ("service", "店员未佩戴口罩,未公示健康证"),
    )
    shops = [b for b in businesses if b.kind in ("restaurant", "retailer")]
    for n in range(36):
        b = rng.choice(shops)
        category, text = rng.choice(texts)
        received = datetime.combine(today, time(9), CST) - timedelta(
            days=rng.randint(0, 60), minutes=rng.randint(0, 600)
        )
        out.complaints.append(
            CityComplaint(
                b.party_id,
                received,
                category,
                text,
                answered=n >= 4,
                closed=n >= 10,
                rating=rng.choice((3, 4, 5, 5, 5)),
            )
        )
    out.complaints.sort(key=lambda c: c.received_at)
    return out
