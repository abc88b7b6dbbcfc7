"""How recorded values are shown to a shopper, and the facts a page's script checks.

A page shows values read from the projection tables (fast, indexed). Each shown value is a
:class:`Fact`: the text on the page plus where the same value sits in a log entry (record
index and JSON pointer) and how it is formatted. The page's script verifies the entry
(leaf hash, inclusion proof, signed checkpoint), then formats the entry's value the same way
and compares it with what the page shows. A projection row changed behind the log's back
therefore shows up as a mismatch, and a changed entry as a failed proof.

The formatting tables live here, once: the templates render with them and the page embeds
them for the script (``FORMATS``), so Python and JavaScript cannot drift apart except in
the two small functions the script must re-implement (times and numbers, below).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Final

CST: Final = timezone(timedelta(hours=8))  # pages show 中国标准时间

BIZ_STEP_ZH: Final = {
    "commissioning": "生产/赋码",
    "harvesting": "采收",
    "shipping": "发货",
    "receiving": "收货",
    "transporting": "运输",
    "holding": "暂存/扣留",
    "storing": "入库存储",
    "packing": "包装",
    "unpacking": "拆包",
    "inspecting": "检查",
    "sampling": "抽样",
    "cooling": "预冷",
    "retail_selling": "零售",
    "departing": "出发",
    "arriving": "到达",
    "loading": "装车",
    "unloading": "卸货",
    "accepting": "验收",
    "destroying": "销毁",
    "transforming": "加工",
    "creating_class_instance": "生产",
}
DISPOSITION_ZH: Final = {
    "active": "正常",
    "in_transit": "在途",
    "in_progress": "处理中",
    "recalled": "已召回",
    "damaged": "损坏",
    "destroyed": "已销毁",
    "expired": "已过期",
    "sellable_accessible": "可售",
    "sellable_not_accessible": "可售(未上架)",
    "non_sellable_other": "不可售",
    "needs_replacement": "需更换",
    "no_pedigree_match": "来源不符",
    "returned": "已退回",
    "stolen": "被盗",
    "unknown": "未知",
    "conformant": "合格",
    "non_conformant": "不合格",
}
CONCLUSION_ZH: Final = {"pass": "合格", "fail": "不合格"}
LICENCE_KIND_ZH: Final = {
    "business": "营业执照",
    "food_business": "食品经营许可证",
    "food_production": "食品生产许可证",
}
LICENCE_STATUS_ZH: Final = {
    "valid": "有效",
    "expiring": "即将到期",
    "expired": "已过期",
    "revoked": "已吊销",
    "not_yet_valid": "尚未生效",
}
PARTY_KIND_ZH: Final = {
    "producer": "生产者",
    "processor": "加工企业",
    "logistics": "物流企业",
    "retailer": "零售商",
    "restaurant": "餐饮服务",
    "lab": "检验机构",
    "inspector": "检查机构",
    "regulator": "监管部门",
}

# fmt name -> value table; "" shows the value as is. "time", "day" and "num" are computed.
FORMATS: Final[dict[str, dict[str, str]]] = {
    "bizstep": BIZ_STEP_ZH,
    "disposition": DISPOSITION_ZH,
    "conclusion": CONCLUSION_ZH,
    "licence_kind": LICENCE_KIND_ZH,
    "party_kind": PARTY_KIND_ZH,
}


def cbv_word(value: str) -> str:
    """The bare CBV word of any spelling (``urn:…:shipping``, ``…/BizStep-shipping``).

    Deliberately the same two-step rule as ``cbvWord`` in ``static/verify.js``."""
    return value.rsplit(":", 1)[-1].rsplit("-", 1)[-1]


def show_time(value: datetime | str) -> str:
    """``YYYY-MM-DD HH:MM`` in China Standard Time (``fmtTime`` in verify.js)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(CST).strftime("%Y-%m-%d %H:%M")


def show_num(value: float | int) -> str:
    """Shortest round-trip text of a number, as JavaScript's ``String(n)`` writes it for
    the values pages show (no exponents)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value)


def show(fmt: str, value: Any) -> str:
    """The page text for a recorded value under format ``fmt``."""
    if value is None:
        return ""
    if fmt == "time":
        return show_time(value)
    if fmt == "day":
        return (value.isoformat() if isinstance(value, date) else str(value))[:10]
    if fmt == "num":
        return show_num(value)
    if isinstance(value, date):
        value = value.isoformat()
    text = str(value)
    if fmt in ("bizstep", "disposition"):
        return FORMATS[fmt].get(cbv_word(text), text)
    if fmt in FORMATS:
        return FORMATS[fmt].get(text, text)
    return text


@dataclass(frozen=True)
class Fact:
    """A shown value and where its recorded original is: entry ``rec`` at JSON ``path``.

    ``by_value``: the script compares ``data-value`` (chart points, identifiers shown by
    name) instead of the element's text."""

    rec: int
    path: str
    text: str
    fmt: str = ""
    by_value: bool = False

    def __str__(self) -> str:
        return self.text


def fact(rec: int, path: str, value: Any, fmt: str = "", *, by_value: bool = False) -> Fact:
    return Fact(rec, path, show(fmt, value), fmt, by_value)


def records_of(*facts: Any) -> list[int]:
    """The log entries the facts in these page parts (dataclasses, lists) point into."""
    out: set[int] = set()

    def walk(x: Any) -> None:
        if isinstance(x, Fact):
            out.add(x.rec)
        elif isinstance(x, list | tuple):
            for y in x:
                walk(y)
        elif hasattr(x, "__dataclass_fields__"):
            for name in x.__dataclass_fields__:
                if name != "records":
                    walk(getattr(x, name))

    for f in facts:
        walk(f)
    return sorted(out)


def today_cst() -> date:
    return datetime.now(UTC).astimezone(CST).date()


def complaint_categories() -> list[tuple[str, str]]:
    """The complaint API's categories as (value, 中文 label), for the page's form."""
    try:
        from foodtrace.complaint.schemas import CATEGORY_LABELS
    except ModuleNotFoundError:
        return [("other", "其他")]
    return [(c.value, label) for c, label in CATEGORY_LABELS.items()]
