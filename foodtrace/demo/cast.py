"""The demo's cast: identifiers with valid check characters, the parties of the chain,
its products and lots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta, timezone
from pathlib import Path

from stdnum import ean
from stdnum.cn import uscc

DEFAULT_DATA_DIR = Path("var/demo")
CST = timezone(timedelta(hours=8))  # 中国标准时间; EPCIS events carry +08:00
DL = "https://id.gs1.org"  # GS1 Digital Link base for EPCIS identifiers
REGULATOR_KEY_FILE = "regulator.key"
AUTHORITY_KEY_FILE = "code-authority.key"
SCAN_STATE_FILE = "scan-state.json"  # the printed scan command's own memory of checkpoints
STATE_FILE = "demo.json"  # the seeding day (lot codes derive from it) and the API tokens
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organisation code check


# --- identifiers with valid check characters -------------------------------------------------


def org_code(base8: str) -> str:
    """A GB 11714 organisation code: 8 characters and their check character."""
    total = sum(w * int(c, 36) for w, c in zip(ORG_CODE_WEIGHTS, base8, strict=True))
    check = 11 - total % 11
    return base8 + {10: "X", 11: "0"}.get(check, str(check))


def credit_code(region: str, base8: str, kind: str = "91") -> str:
    """A 统一社会信用代码: registration kind, 6-digit region, organisation code, check."""
    body = kind + region + org_code(base8)
    return body + uscc.calc_check_digit(body)


def gtin13(base12: str) -> str:
    return base12 + ean.calc_check_digit(base12)


def gln(base12: str) -> str:
    return base12 + ean.calc_check_digit(base12)


# --- the demo chain --------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoParty:
    key: str  # short name used in this module
    name: str
    kind: str
    credit_code: str
    gln: str
    region: str
    address: str
    grid: str | None = None


REGULATOR = DemoParty(
    "regulator",
    "北京市朝阳区市场监督管理局",
    "regulator",
    credit_code("110105", "00001234", kind="11"),
    gln("690123400000"),
    "北京市朝阳区",
    "北京市朝阳区日坛北路",
)
PARTIES: tuple[DemoParty, ...] = (
    DemoParty(
        "farm",
        "寿光市绿野蔬菜种植专业合作社",
        "producer",
        credit_code("370783", "MA3C5K7P", kind="93"),
        gln("690123400001"),
        "山东省潍坊市寿光市",
        "山东省寿光市洛城街道蔬菜大棚区18号",
        "洛城街道-07",
    ),
    DemoParty(
        "processor",
        "潍坊鲜达净菜加工有限公司",
        "processor",
        credit_code("370700", "MA3D8R2N"),
        gln("690123400002"),
        "山东省潍坊市",
        "山东省潍坊市坊子区食品工业园6号",
    ),
    DemoParty(
        "logistics",
        "京鲁冷链物流有限公司",
        "logistics",
        credit_code("110112", "MA01F3TQ"),
        gln("690123400003"),
        "北京市通州区",
        "北京市通州区马驹桥物流园区3号库",
    ),
    DemoParty(
        "restaurant",
        "北京朝阳小满餐厅有限公司",
        "restaurant",
        credit_code("110105", "MA04G7WX"),
        gln("690123400004"),
        "北京市朝阳区",
        "北京市朝阳区三里屯路19号",
        "三里屯街道-02",
    ),
    DemoParty(
        "lab",
        "山东省食品药品检验研究院",
        "lab",
        credit_code("370000", "49557013", kind="12"),
        gln("690123400005"),
        "山东省济南市",
        "山东省济南市历下区千佛山东路",
    ),
    DemoParty(
        "inspector",
        "北京市朝阳区食品安全检查大队",
        "inspector",
        credit_code("110105", "40000521", kind="11"),
        gln("690123400006"),
        "北京市朝阳区",
        "北京市朝阳区三里屯街道",
    ),
)
BY_KEY = {p.key: p for p in (REGULATOR, *PARTIES)}

# GS1 company prefixes the regulator assigns: the farm's and the plant's GTINs lie under them.
COMPANY_PREFIXES = {"farm": "69012341", "processor": "69012342"}
CUCUMBER = gtin13("690123410001")
TOMATO = gtin13("690123410002")
SALAD = gtin13("690123420001")


@dataclass(frozen=True)
class DemoLot:
    gtin: str
    lot_code: str
    producer: str  # DemoParty.key
    quantity: float
    unit: str
    days_ago: int


def lots(today: date) -> tuple[DemoLot, ...]:
    """The lots, coded by their production day (as the farm and plant would print)."""
    harvest = (today - timedelta(days=6)).strftime("%Y%m%d")
    made = (today - timedelta(days=5)).strftime("%Y%m%d")
    return (
        DemoLot(CUCUMBER, f"SG{harvest}A", "farm", 800, "kg", 6),
        DemoLot(TOMATO, f"SG{harvest}B", "farm", 600, "kg", 6),
        DemoLot(SALAD, f"JG{made}01", "processor", 1200, "盒", 5),
    )


def recalled_lot(today: date) -> DemoLot:
    return lots(today)[1]
