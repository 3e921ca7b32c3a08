"""Deterministic, realistic registry data for Guangdong, mostly 珠海市: people, enterprises, departments."""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from itertools import accumulate
from typing import NamedTuple, TypedDict

from stdnum.cn import ric
from stdnum.cn import uscc as stdnum_uscc

# A fixed "today": the same seed must give the same people whenever it runs.
REFERENCE_DATE = date(2026, 11, 1)
ADULT_AGE = 18

ZHUHAI_DISTRICTS = {"440402": "香洲区", "440403": "斗门区", "440404": "金湾区"}
_HOME_DISTRICT_WEIGHTS = (65, 20, 15)

# Where people living in Zhuhai were born (first registered), weighted towards the usual migration sources.
_OTHER_BIRTH_REGIONS = (
    ("440103", 3), ("440104", 3), ("440105", 3), ("440106", 3), ("440111", 3),  # 广州 荔湾 越秀 海珠 天河 白云
    ("440303", 2), ("440304", 2), ("440305", 2),  # 深圳 罗湖 福田 南山
    ("440604", 3),  # 佛山 禅城
    ("445302", 5), ("445381", 5),  # 云浮 云城, 罗定
    ("441900", 3),  # 东莞
    ("440507", 3),  # 汕头 龙湖
    ("442000", 5),  # 中山
    ("440703", 4), ("440781", 4),  # 江门 蓬江, 台山
    ("440802", 5),  # 湛江 赤坎
    ("441702", 4),  # 阳江 江城
    ("441402", 3),  # 梅州 梅江
    ("445202", 3),  # 揭阳 榕城
    ("441202", 3),  # 肇庆 端州
    ("441302", 2),  # 惠州 惠城
    ("440203", 2),  # 韶关 武江
)

_SURNAMES = (
    ("陈", 100), ("李", 74), ("黄", 68), ("张", 46), ("梁", 41), ("林", 39), ("刘", 35), ("吴", 30),
    ("罗", 27), ("何", 25), ("郑", 20), ("杨", 20), ("谢", 18), ("邓", 18), ("周", 16), ("许", 15),
    ("曾", 14), ("冯", 14), ("朱", 13), ("王", 13), ("苏", 12), ("蔡", 12), ("卢", 12), ("潘", 12),
    ("钟", 11), ("彭", 11), ("叶", 11), ("余", 10), ("胡", 10), ("谭", 9), ("徐", 9), ("廖", 8),
    ("赖", 8), ("莫", 7), ("邱", 7), ("吕", 6), ("马", 6), ("关", 6), ("温", 6), ("江", 6), ("方", 6),
    ("麦", 5), ("袁", 5), ("杜", 4), ("欧阳", 3), ("古", 3), ("庞", 3), ("严", 3), ("戴", 3), ("汤", 3),
    ("詹", 3), ("区", 2), ("霍", 2), ("容", 2), ("简", 2), ("骆", 2), ("司徒", 1),
)
_SURNAME_POOL = tuple(s for s, _w in _SURNAMES)
_SURNAME_CUM = tuple(accumulate(w for _s, w in _SURNAMES))

# (first characters, second characters, share of one-character given names) by sex and birth era:
# naming fashions changed a lot between the 1950s and the 2010s.
_GIVEN_NAMES: dict[tuple[str, int], tuple[str, str, float]] = {
    ("M", 0): ("国建志德文锦炳汉永耀添伟树桂新光金荣振家", "华明强平荣昌福祥贵生林源坤泉发森章基雄标", 0.20),
    ("M", 1): ("伟志建国文卫海东晓小俊振永少锦家剑", "明华强军勇平辉峰斌刚东波林忠宏涛坚雄彬", 0.35),
    ("M", 2): ("嘉家志俊浩子文晓泽伟智永锦振卓国建宇", "豪杰明辉鹏涛亮超斌锋健俊华荣峰聪铭灿伟乐", 0.25),
    ("M", 3): ("子梓浩宇俊嘉家思一奕晨承锦铭睿天泽博乐致景沐", "轩睿涵宇豪杰铭皓晨宸航霖煜泽扬然熙诚朗翔源霆", 0.08),
    ("F", 0): ("秀玉桂金凤丽素淑爱彩月美少惠亚群", "英兰芳珍凤琼娟霞梅娣好容燕珠莲华银", 0.25),
    ("F", 1): ("丽小晓少美秀惠艳玉彩春雪慧红凤燕", "红燕艳敏霞萍玲芳娟静琼梅英慧华仪娴", 0.35),
    ("F", 2): ("嘉颖晓丽思咏诗佳雪慧婉静文淑雅梦碧宝", "欣婷琳敏怡仪莹倩雯慧茵珊诗玲燕霞丹妍", 0.20),
    ("F", 3): ("梓子欣诗雨可语思佳嘉一若依乐心晓芷紫", "涵萱琪晴怡彤桐妍悦琳晞钰昕婧欣瑶菲蕾", 0.05),
}

_MOBILE_PREFIXES = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "177", "180", "181", "182", "183", "185", "186", "187",
    "188", "189", "198", "199",
)

# district → ((town, roads), ...); the town is "" where addresses name no 镇 (香洲区's 街道 are left out).
_ROADS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "440402": (
        ("", (
            "凤凰北路", "凤凰南路", "人民东路", "人民西路", "情侣中路", "情侣北路", "九洲大道中",
            "九洲大道东", "迎宾南路", "迎宾北路", "吉大路", "粤华路", "明珠南路", "明珠北路", "梅华东路",
            "梅华西路", "紫荆路", "柠溪路", "翠香路", "海滨南路", "景山路", "前河北路", "港昌路", "银桦路",
        )),
    ),
    "440403": (
        ("井岸镇", ("湖滨路", "珠峰大道", "西湖路", "朝阳路")),
        ("白蕉镇", ("白蕉路", "成裕路")),
        ("斗门镇", ("斗门大道",)),
        ("乾务镇", ("乾务大道",)),
    ),
    "440404": (
        ("三灶镇", ("金海岸大道", "金湖路", "海澄路")),
        ("红旗镇", ("藤山一路", "红旗路", "湖心路")),
        ("平沙镇", ("平沙大道",)),
    ),
}
_ESTATES = {
    "440402": (
        "华发新城", "华发世纪城", "海怡湾畔", "扬名广场", "南屏花园", "翠微花园", "九洲花园", "海湾花园",
        "凤凰花园", "吉大花园", "拱北花园", "前山花园", "中珠新城", "华发水岸", "碧海园",
    ),
    "440403": ("华发水郡", "井岸花园", "白蕉花园", "尖峰花园", "碧桂园", "御景湾", "湖滨新村", "富山花园"),
    "440404": ("金湾花园", "三灶花园", "红旗花园", "海华花园", "藤山新村", "中珠上郡", "金海岸花园", "平沙新城"),
}
_OFFICE_BUILDINGS = ("国际科技大厦", "商务中心", "创新大厦", "金融中心", "总部基地", "时代广场", "科技园")
_VILLAGES = ("新沙村", "东围村", "南环村", "北山村", "上横村", "大沙村", "莲洲村", "南门村")


class PersonRow(TypedDict):
    id_number: str
    name: str
    sex: str
    birth_date: date
    region_code: str
    household_address: str
    ssc_number: str
    mobile: str


class Household(NamedTuple):
    """Members living at one address; links are (guardian index, child index, relation) into `persons`."""

    persons: list[PersonRow]
    links: list[tuple[int, int, str]]


class EntityRow(TypedDict):
    uscc: str
    name: str
    entity_type: str
    legal_rep_id_number: str
    address: str
    industry: str
    registered_capital: int
    established_on: date
    region_code: str


class DepartmentRow(TypedDict):
    code: str
    name: str
    short_name: str
    kind: str
    level: str
    region_code: str
    region_name: str
    parent_code: str | None
    address: str
    phone: str
    sort_order: int


def region_codes() -> list[str]:
    """Every region code this module writes into ID numbers, codes and rows."""
    return ["440000", "440400", *ZHUHAI_DISTRICTS, *(code for code, _w in _OTHER_BIRTH_REGIONS)]


# --- identifiers -----------------------------------------------------------------------------------------


def _ric_with_check(body: str) -> str:
    # stdnum computes the digit from everything but the last character, so a placeholder stands in for it.
    return body + ric.calc_check_digit(body + "0")


def id_number(rng: random.Random, region_code: str, birth_date: date, sex: str) -> str:
    """A GB 11643 resident ID number; the sequence number is odd for men and even for women."""
    seq = rng.randrange(1 if sex == "M" else 0, 1000, 2)
    return _ric_with_check(f"{region_code}{birth_date:%Y%m%d}{seq:03d}")


_ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100 leaves out I, O, S, V and Z
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def _org_code(body: str) -> str:
    """Eight characters plus their GB 11714 check character (letters count A=10 … Z=35)."""
    total = sum(int(c, 36) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return body + ("X" if check == 10 else "0" if check == 11 else str(check))


def uscc(rng: random.Random, region_code: str, type_digit: str = "1", legacy: bool = False) -> str:
    """A GB 32100 unified social credit code registered by market regulation ('9').

    type_digit: '1' enterprise, '2' individual business (个体工商户), '3' farmers' cooperative.
    legacy: an organisation code from before the 2015 reform (all digits, or 'L…' for individual
    businesses) instead of the 'MA4…' codes Guangdong has issued since.
    """
    if legacy:
        lead = "L" if type_digit == "2" else rng.choice("567")
        body = lead + "".join(rng.choices("0123456789", k=7))
    else:
        body = "MA4" + "".join(rng.choices(_ORG_ALPHABET, k=5))
    code = f"9{type_digit}{region_code}{_org_code(body)}"
    return code + stdnum_uscc.calc_check_digit(code)


def ssc_number(rng: random.Random) -> str:
    """A social security card number: one capital letter and 8 digits."""
    return rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") + f"{rng.randrange(10**8):08d}"


def mobile(rng: random.Random) -> str:
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


# --- people ----------------------------------------------------------------------------------------------


def surname(rng: random.Random) -> str:
    return rng.choices(_SURNAME_POOL, cum_weights=_SURNAME_CUM)[0]


def given_name(rng: random.Random, sex: str, birth_year: int) -> str:
    era = 0 if birth_year < 1960 else 1 if birth_year < 1980 else 2 if birth_year < 2000 else 3
    firsts, seconds, single = _GIVEN_NAMES[sex, era]
    if rng.random() < single:
        return rng.choice(seconds)
    return rng.choice(firsts) + rng.choice(seconds)


def home_address(rng: random.Random, district: str) -> str:
    town, roads = rng.choice(_ROADS[district])
    return (
        f"广东省珠海市{ZHUHAI_DISTRICTS[district]}{town}{rng.choice(roads)}{rng.randint(1, 1999)}号"
        f"{rng.choice(_ESTATES[district])}{rng.randint(1, 28)}栋{rng.randint(1, 33)}{rng.randint(1, 6):02d}房"
    )


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year + years, day=28)


def _birth_for_age(rng: random.Random, age: int) -> date:
    """A birth date that makes the person exactly `age` on REFERENCE_DATE."""
    latest = _add_years(REFERENCE_DATE, -age)
    earliest = _add_years(REFERENCE_DATE, -age - 1) + timedelta(days=1)
    return date.fromordinal(rng.randint(earliest.toordinal(), latest.toordinal()))


def _adult_age(rng: random.Random) -> int:
    # Zhuhai is a young migrant city: working ages dominate, the over-65s are fewer.
    while True:
        age = rng.randint(22, 80)
        if rng.random() < (0.75 if age < 30 else 1.0 if age < 50 else 0.7 if age < 65 else 0.4):
            return age


def _children(rng: random.Random, parents: list[date], count: int) -> list[date]:
    """Births once every parent was 20 and while the mother (the last parent) was at most 42,
    at least 15 months apart."""
    births: list[date] = []
    mother = parents[-1]
    born = max(_add_years(parent, 20) for parent in parents).toordinal() + rng.randint(0, 13 * 365)
    for _i in range(count):
        child = date.fromordinal(born)
        if child > REFERENCE_DATE or age_on(mother, child) > 42:
            break
        births.append(child)
        born += rng.randint(450, 1800)
    return births


class _Member(NamedTuple):
    sex: str
    birth_date: date
    is_parent: bool


def _plan_household(rng: random.Random) -> list[_Member]:
    """Adults first (husband, wife), then children oldest first."""
    if rng.random() < 0.72:
        husband_age = _adult_age(rng)
        wife_age = min(80, max(22, husband_age - round(rng.gauss(2, 3))))
        adults = [_Member("M", _birth_for_age(rng, husband_age), True),
                  _Member("F", _birth_for_age(rng, wife_age), True)]
        wanted = rng.choices((0, 1, 2, 3), weights=(22, 38, 30, 10))[0]
    else:
        adults = [_Member(rng.choice("MF"), _birth_for_age(rng, _adult_age(rng)), True)]
        wanted = rng.choices((1, 2), weights=(70, 30))[0] if rng.random() < 0.3 else 0
    children = []
    for born in _children(rng, [adult.birth_date for adult in adults], wanted):
        age = age_on(born, REFERENCE_DATE)
        # Grown children up to 35 still live at home about half the time; older ones have moved out.
        if age >= ADULT_AGE and (age > 35 or rng.random() < 0.5):
            continue
        children.append(_Member(rng.choice("MF"), born, False))
    return adults + children


def _other_district(rng: random.Random, district: str) -> str:
    return rng.choice([d for d in ZHUHAI_DISTRICTS if d != district])


_OTHER_REGION_POOL = tuple(code for code, _w in _OTHER_BIRTH_REGIONS)
_OTHER_REGION_CUM = tuple(accumulate(w for _c, w in _OTHER_BIRTH_REGIONS))


def _birth_region(rng: random.Random, district: str, is_parent: bool) -> str:
    roll = rng.random()
    here, zhuhai = (0.55, 0.65) if is_parent else (0.88, 0.95)
    if roll < here:
        return district
    if roll < zhuhai:
        return _other_district(rng, district)
    return rng.choices(_OTHER_REGION_POOL, cum_weights=_OTHER_REGION_CUM)[0]


class _Issuer:
    """Hands out ID numbers unique in the registry (this run's and `existing_id_numbers`) and mobiles
    unique within this run."""

    def __init__(self, rng: random.Random, existing_id_numbers: Iterable[str]) -> None:
        self.rng = rng
        # Keyed by the first 17 digits as an int: the check digit follows from them, and ints keep 1M entries small.
        self.ids = {int(n[:17]) for n in existing_id_numbers if n[:17].isdigit()}
        self.mobiles: set[str] = set()

    def id_number(self, region_code: str, born: date, sex: str) -> tuple[str, date]:
        """The number and the birth date it encodes (which moves only if that birthday is full)."""
        start = self.rng.randrange(1 if sex == "M" else 0, 1000, 2)
        while True:
            stem = f"{region_code}{born:%Y%m%d}"
            base = int(stem) * 1000
            # Walk this sex's sequence numbers from a random start; only when all 500 are taken move the
            # birth date a day back (never forward, which could pass REFERENCE_DATE).
            for step in range(0, 1000, 2):
                seq = (start + step) % 1000
                if base + seq not in self.ids:
                    self.ids.add(base + seq)
                    return _ric_with_check(f"{stem}{seq:03d}"), born
            born -= timedelta(days=1)

    def mobile(self) -> str:
        while (number := mobile(self.rng)) in self.mobiles:
            pass
        self.mobiles.add(number)
        return number


def iter_households(
    seed: int, n_persons: int, *, existing_id_numbers: Iterable[str] = ()
) -> Iterator[Household]:
    """Households living in Zhuhai, exactly `n_persons` people in all, with ID numbers unique among
    themselves and against `existing_id_numbers`. Children under 18 are linked to each parent present."""
    rng = random.Random(seed)
    issuer = _Issuer(rng, existing_id_numbers)
    districts = tuple(ZHUHAI_DISTRICTS)
    left = n_persons
    while left > 0:
        # Cutting the last household short drops children first, then the spouse, so links stay valid.
        members = _plan_household(rng)[:left]
        left -= len(members)
        district = rng.choices(districts, weights=_HOME_DISTRICT_WEIGHTS)[0]
        address = home_address(rng, district)
        family_name = surname(rng)
        persons: list[PersonRow] = []
        for member in members:
            # A wife keeps her own surname; children take the first adult's (the father's, in a couple).
            name = (surname(rng) if member.is_parent and persons else family_name) + given_name(
                rng, member.sex, member.birth_date.year
            )
            number, born = issuer.id_number(
                _birth_region(rng, district, member.is_parent), member.birth_date, member.sex
            )
            persons.append(PersonRow(
                id_number=number,
                name=name,
                sex=member.sex,
                birth_date=born,
                region_code=district,
                household_address=address,
                ssc_number=ssc_number(rng),
                # Young children have no phone of their own; the guardian's number is used for them.
                mobile=issuer.mobile() if age_on(born, REFERENCE_DATE) >= 12 else "",
            ))
        parents = [i for i, m in enumerate(members) if m.is_parent]
        links = [
            (p, c, "父亲" if members[p].sex == "M" else "母亲")
            for c, m in enumerate(members)
            if not m.is_parent and age_on(m.birth_date, REFERENCE_DATE) < ADULT_AGE
            for p in parents
        ]
        yield Household(persons, links)


# --- legal entities --------------------------------------------------------------------------------------

_ENTITY_TYPES = (
    ("有限责任公司", 55), ("个体工商户", 30), ("个人独资企业", 6), ("股份有限公司", 5), ("农民专业合作社", 4),
)
# industry → words that go between 字号 and the company-form suffix
_COMPANY_INDUSTRIES = {
    "软件和信息技术服务业": ("软件科技", "信息技术", "网络科技", "数字科技", "智能科技"),
    "批发和零售业": ("贸易", "商贸", "进出口贸易", "百货", "医药连锁"),
    "餐饮业": ("餐饮管理", "饮食服务", "餐饮连锁"),
    "制造业": ("电子", "精密机械", "塑胶制品", "五金制品", "电气设备", "游艇制造"),
    "建筑业": ("建筑工程", "建设工程", "装饰工程", "机电安装工程"),
    "交通运输业": ("物流", "运输", "国际货运代理", "汽车运输"),
    "住宿业": ("酒店管理", "酒店", "公寓管理"),
    "科技推广和应用服务业": ("科技", "生物科技", "新材料科技", "环保科技", "新能源科技"),
    "租赁和商务服务业": ("企业管理咨询", "商务服务", "广告"),
}
_SHOP_INDUSTRIES = {
    "餐饮业": ("茶餐厅", "粥铺", "烧腊店", "饭店", "糖水铺", "面馆"),
    "批发和零售业": ("便利店", "士多店", "水果店", "五金店", "服装店", "商行"),
    "居民服务业": ("理发店", "洗衣店", "家政服务部"),
    "住宿业": ("旅馆", "民宿"),
    "交通运输业": ("货运部",),
}
_COOP_INDUSTRIES = {"渔业": ("水产养殖",), "农业": ("蔬菜种植", "水果种植", "花卉种植"), "畜牧业": ("禽畜养殖",)}
_BRAND_CHARS = "华鑫金海顺恒嘉和信达宏荣富泰盛昌隆丰源兴通瑞德博创智汇新明优卓远航星辰港湾澳粤珠香斗湾利"
# capital choices in 万元 by entity type
_CAPITAL_WAN = {
    "有限责任公司": (3, 5, 10, 30, 50, 100, 200, 300, 500, 1000, 2000, 5000),
    "股份有限公司": (500, 1000, 3000, 5000, 10000, 20000, 50000, 100000),
    "个人独资企业": (1, 3, 5, 10, 20, 50),
    "个体工商户": (0.5, 1, 2, 3, 5, 10),
    "农民专业合作社": (5, 10, 50, 100, 200),
}
_ENTITY_DISTRICT_WEIGHTS = (60, 15, 25)


_YEARS = range(1995, REFERENCE_DATE.year + 1)
# Registrations grew steadily, and jumped after the 2014 commercial registration reform.
_YEAR_CUM = tuple(accumulate(1 + (y - 1995) // 4 + (4 if y >= 2014 else 0) for y in _YEARS))


def _established(rng: random.Random) -> date:
    year = rng.choices(_YEARS, cum_weights=_YEAR_CUM)[0]
    start = date(year, 1, 1).toordinal()
    end = min(date(year, 12, 31), REFERENCE_DATE).toordinal()
    return date.fromordinal(rng.randint(start, end))


def _brand(rng: random.Random, length: int) -> str:
    return "".join(rng.sample(_BRAND_CHARS, length))


def _entity_address(rng: random.Random, district: str, industry: str, entity_type: str) -> str:
    town, roads = rng.choice(_ROADS[district])
    if entity_type == "农民专业合作社":
        return f"广东省珠海市{ZHUHAI_DISTRICTS[district]}{town}{rng.choice(_VILLAGES)}{rng.randint(1, 300)}号"
    street = f"广东省珠海市{ZHUHAI_DISTRICTS[district]}{town}{rng.choice(roads)}{rng.randint(1, 1999)}号"
    if entity_type in ("个体工商户", "个人独资企业"):
        return f"{street}{rng.choice(_ESTATES[district])}{rng.randint(1, 60)}号商铺"
    if industry == "制造业":
        return f"{street}{rng.randint(1, 12)}栋厂房"
    return f"{street}{rng.choice(_OFFICE_BUILDINGS)}{rng.randint(2, 38)}{rng.randint(1, 20):02d}室"


def iter_legal_entities(
    seed: int, n: int, legal_rep_id_numbers: Sequence[str], *, existing_usccs: Iterable[str] = ()
) -> Iterator[EntityRow]:
    """`n` enterprises registered in Zhuhai, represented by people drawn from `legal_rep_id_numbers`,
    with USCCs unique among themselves and against `existing_usccs`."""
    if n > 0 and not legal_rep_id_numbers:
        raise ValueError("legal entities need at least one legal representative")
    rng = random.Random(seed)
    codes = set(existing_usccs)
    names: set[str] = set()
    types = tuple(t for t, _w in _ENTITY_TYPES)
    type_weights = tuple(w for _t, w in _ENTITY_TYPES)
    districts = tuple(ZHUHAI_DISTRICTS)
    shop_industries, coop_industries = tuple(_SHOP_INDUSTRIES), tuple(_COOP_INDUSTRIES)
    company_industries = tuple(_COMPANY_INDUSTRIES)
    for _i in range(n):
        entity_type = rng.choices(types, weights=type_weights)[0]
        if entity_type == "农民专业合作社":
            district = rng.choice(("440403", "440404"))  # farmland and fish ponds are in 斗门 and 金湾
        else:
            district = rng.choices(districts, weights=_ENTITY_DISTRICT_WEIGHTS)[0]
        place = "珠海市" + ZHUHAI_DISTRICTS[district]
        if entity_type == "个体工商户":
            industry = rng.choice(shop_industries)
            words, suffix, type_digit = _SHOP_INDUSTRIES[industry], "", "2"
        elif entity_type == "农民专业合作社":
            industry = rng.choice(coop_industries)
            words, suffix, type_digit = _COOP_INDUSTRIES[industry], "专业合作社", "3"
        else:
            industry = rng.choice(company_industries)
            words, type_digit = _COMPANY_INDUSTRIES[industry], "1"
            suffix = {"有限责任公司": "有限公司", "股份有限公司": "股份有限公司"}.get(entity_type, "商行")
            if entity_type != "个人独资企业":
                place = "珠海市"  # companies are registered city-wide, so their names carry only the city
        word = rng.choice(words)
        # Names are unique within a registration authority; a clash gets a longer 字号.
        length = 2
        while (name := f"{place}{_brand(rng, length)}{word}{suffix}") in names:
            length += 1
        names.add(name)
        established = _established(rng)
        # Companies are registered by the city bureau, individual businesses and cooperatives by the district's.
        authority_region = "440400" if type_digit == "1" else district
        while (code := uscc(rng, authority_region, type_digit, legacy=established.year < 2016)) in codes:
            pass
        codes.add(code)
        yield EntityRow(
            uscc=code,
            name=name,
            entity_type=entity_type,
            legal_rep_id_number=rng.choice(legal_rep_id_numbers),
            address=_entity_address(rng, district, industry, entity_type),
            industry=industry,
            registered_capital=int(rng.choice(_CAPITAL_WAN[entity_type]) * 10_000),
            established_on=established,
            region_code=district,
        )


# --- departments -----------------------------------------------------------------------------------------

# (code suffix, kind, name, short name)
_PROVINCE_DEPARTMENTS = (
    ("MARKET", "market", "广东省市场监督管理局", "省市场监管局"),
    ("POLICE", "police", "广东省公安厅", "省公安厅"),
    ("TAX", "tax", "国家税务总局广东省税务局", "省税务局"),
    ("HRSS", "hrss", "广东省人力资源和社会保障厅", "省人社厅"),
    ("MEDICAL", "medical", "广东省医疗保障局", "省医保局"),
    ("HEALTH", "health", "广东省卫生健康委员会", "省卫健委"),
    ("CIVIL", "civil", "广东省民政厅", "省民政厅"),
    ("REALESTATE", "realestate", "广东省自然资源厅", "省自然资源厅"),
    ("EDUCATION", "education", "广东省教育厅", "省教育厅"),
    ("TRANSPORT", "transport", "广东省交通运输厅", "省交通运输厅"),
    ("HALL", "hall", "广东省政务服务和数据管理局", "省政数局"),
)
_CITY_DEPARTMENTS = (
    ("MARKET", "market", "珠海市市场监督管理局", "市市场监管局"),
    ("POLICE", "police", "珠海市公安局", "市公安局"),
    ("TAX", "tax", "国家税务总局珠海市税务局", "市税务局"),
    ("HRSS", "hrss", "珠海市人力资源和社会保障局", "市人社局"),
    ("MEDICAL", "medical", "珠海市医疗保障局", "市医保局"),
    ("HOUSINGFUND", "housingfund", "珠海市住房公积金管理中心", "市公积金中心"),
    ("HEALTH", "health", "珠海市卫生健康局", "市卫健局"),
    ("CIVIL", "civil", "珠海市民政局", "市民政局"),
    ("REALESTATE", "realestate", "珠海市不动产登记中心", "市不动产登记中心"),
    ("EDUCATION", "education", "珠海市教育局", "市教育局"),
    ("TRANSPORT", "transport", "珠海市交通运输局", "市交通运输局"),
    ("HALL", "hall", "珠海市政务服务和数据管理局", "市政数局"),
)
# {d} is the district name without 区 (香洲), {D} with it (香洲区)
_COUNTY_DEPARTMENTS = (
    ("MARKET", "market", "珠海市{D}市场监督管理局", "{D}市场监管局"),
    ("POLICE", "police", "珠海市公安局{d}分局", "{d}公安分局"),
    ("TAX", "tax", "国家税务总局珠海市{D}税务局", "{D}税务局"),
    ("HRSS", "hrss", "珠海市{D}人力资源和社会保障局", "{D}人社局"),
    ("MEDICAL", "medical", "珠海市医疗保障局{d}分局", "{d}医保分局"),
    ("HEALTH", "health", "珠海市{D}卫生健康局", "{D}卫健局"),
    ("CIVIL", "civil", "珠海市{D}民政局", "{D}民政局"),
    ("EDUCATION", "education", "珠海市{D}教育局", "{D}教育局"),
    ("HALL", "hall", "珠海市{D}政务服务和数据管理局", "{D}政数局"),
)
_DISTRICT_KEYS = {"440402": "XZ", "440403": "DM", "440404": "JW"}
_TOWNS = (
    ("440402", "GB", "拱北街道"), ("440402", "JD", "吉大街道"), ("440402", "QS", "前山街道"),
    ("440402", "XW", "香湾街道"), ("440403", "JA", "井岸镇"), ("440403", "BJ", "白蕉镇"),
    ("440404", "SZ", "三灶镇"), ("440404", "HQ", "红旗镇"),
)
_DISTRICT_SEATS = {
    "440402": "广东省珠海市香洲区凤凰北路",
    "440403": "广东省珠海市斗门区井岸镇珠峰大道",
    "440404": "广东省珠海市金湾区三灶镇金海岸大道",
}


def departments() -> list[DepartmentRow]:
    """The department tree, parents before children: 广东省 → 珠海市 → its three districts → 街道/镇 halls.

    A department's parent is the one of the same kind a level up; the housing fund centre has none
    (there is no provincial counterpart) and the town halls hang under their district's hall.
    """
    rows: list[DepartmentRow] = []

    def add(code: str, name: str, short: str, kind: str, level: str, region: str, region_label: str,
            parent: str | None, address: str, phone: str) -> None:
        rows.append(DepartmentRow(
            code=code, name=name, short_name=short, kind=kind, level=level, region_code=region,
            region_name=region_label, parent_code=parent, address=address, phone=phone,
            sort_order=len(rows) + 1,
        ))

    for key, kind, name, short in _PROVINCE_DEPARTMENTS:
        add(f"GD-{key}", name, short, kind, "province", "440000", "广东省", None,
            "广东省广州市越秀区东风中路305号", "020-12345")
    for number, (key, kind, name, short) in enumerate(_CITY_DEPARTMENTS, start=1):
        parent = None if kind == "housingfund" else f"GD-{key}"
        add(f"ZH-{key}", name, short, kind, "city", "440400", "广东省珠海市", parent,
            f"广东省珠海市香洲区人民东路{100 + 2 * number}号", "0756-12345")
    for region, district in ZHUHAI_DISTRICTS.items():
        dk = _DISTRICT_KEYS[region]
        for number, (key, kind, name, short) in enumerate(_COUNTY_DEPARTMENTS, start=1):
            label = dict(d=district.removesuffix("区"), D=district)
            add(f"ZH-{dk}-{key}", name.format(**label), short.format(**label), kind, "county", region,
                f"广东省珠海市{district}", f"ZH-{key}", f"{_DISTRICT_SEATS[region]}{200 + 2 * number}号",
                "0756-12345")
    for region, tk, town in _TOWNS:
        district = ZHUHAI_DISTRICTS[region]
        dk = _DISTRICT_KEYS[region]
        add(f"ZH-{dk}-{tk}-HALL", f"珠海市{district}{town}便民服务中心", f"{town}便民服务中心", "hall", "town",
            region, f"广东省珠海市{district}{town}", f"ZH-{dk}-HALL",
            f"广东省珠海市{district}{town}政务服务大厅", "0756-12345")
    return rows
