"""Invented firm names for the demo county, and the real names they must never borrow.

A demo firm is called e.g. "平湖瑞朗精密机械有限公司": a place prefix, an invented 2-character
brand word (3 characters at very large scales), an industry word and a legal suffix. Brand words are
random pairs from a fixed character set, so any resemblance to a real firm is coincidence; but the
distinctive words of every company named in the seeds are excluded outright, so no invented figure
is ever shown under a name the seeds attach to a real firm.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Companies, groups and investors named in the seeds (000 表2–7 and 附件 project list, 001, 002 附件,
# 003), with the word that makes each recognisable. Invented names may contain none of these words.
REAL_NAMES: dict[str, str] = {
    # 001 news feature / 003 附件2
    "津上精密机床（浙江）有限公司": "津上",
    "尼得科集团": "尼得科",
    "长城汽车": "长城",
    "德马吉森精机": "德马吉",
    "尼得科机床": "尼得科",
    "伊控动力": "伊控",
    "臻驱科技": "臻驱",
    "中嘉华宸能源": "华宸",
    "独山能源": "独山能源",
    "海优新材": "海优",
    "荣辉灯具": "荣辉",
    "日新制钢": "日新",
    "银座箱包": "银座",
    "相伴宝": "相伴宝",
    "鸿禧能源": "鸿禧",
    "嘉特保温": "嘉特",
    "恒业电子": "恒业",
    # 000 一 and 表2–7 代表企业
    "依爱夫": "依爱夫",
    "极地户外": "极地",
    "润泽大数据": "润泽",
    "日本电产芝浦": "电产",
    "日本电产理德": "理德",
    "晨光电缆": "晨光",
    "东精计量仪": "东精",
    "日本电产汽车马达": "电产",
    "日本电产京利": "京利",
    "日本电产新宝": "新宝",
    "科世科": "科世科",
    "德西福格": "德西福格",
    "欧達也恩": "也恩",
    "卫星能源": "卫星",
    "平湖石化": "平湖石化",
    "高正新材料": "高正",
    "抟原复合材料": "抟原",
    "华城集团": "华城",
    "伴宇实业": "伴宇",
    "新秀集团": "新秀",
    "锋源氢能": "锋源",
    "浙江浙能": "浙能",
    "华能浙江": "华能",
    "莎普爱思": "莎普爱思",
    "博格隆生物": "博格隆",
    "开拓药业": "开拓",
    "卫星石化": "卫星",
    "浙江华泓": "华泓",
    "三江化工": "三江",
    "德耐尔能源装备": "德耐尔",
    # 000 附件 project list (investors)
    "浙江轩田智能科技有限公司": "轩田",
    "深圳市杰普特光电股份有限公司": "杰普特",
    "深圳市德方纳米科技股份有限公司": "德方",
    "盯盯拍（浙江）智能设备有限公司": "盯盯拍",
    "华为": "华为",
    "平湖华芯微电子有限公司": "华芯",
    "浙江联创物联科技有限公司": "联创",
    "浙江巨传电子股份有限公司": "巨传",
    "深圳汉和智造有限公司": "汉和",
    "平湖市长城智能科技有限公司": "长城",
    "日本电产汽车马达（浙江）有限公司": "电产",
    "德马吉森精机集团": "森精机",
    "浙江奉天电子有限公司": "奉天",
    "嘉兴中润光学科技有限公司": "中润",
    "日本电产新宝株式会社": "新宝",
    "浙江方向实业有限公司": "方向",
    "斯泰必鲁斯（浙江）有限公司": "斯泰必鲁斯",
    "欧拓（平湖）汽车配件有限公司": "欧拓",
    "上海纳铁福传动系统有限公司": "纳铁福",
    "浙江毅联精密工业有限公司": "毅联",
    "汉粤净化设备（浙江）有限公司": "汉粤",
    "利勃海尔宇航与交通运输有限公司": "利勃海尔",
    "日本电产京利机械（浙江）有限公司": "京利",
    "嘉兴市磁海无损检测设备制造有限公司": "磁海",
    "良求机械有限公司": "良求",
    "兰舍通风系统有限公司": "兰舍",
    "浙江独山能源有限公司": "独山能源",
    "浙江唯酷光电有限公司": "唯酷",
    "湛新树脂（浙江）有限公司": "湛新",
    "浙江凯密特尔表面处理材料有限公司": "凯密特尔",
    "巴斯夫贺利氏（中国）金属资源有限公司": "巴斯夫",
    "贺利氏": "贺利氏",
    "科莱恩特种化学品（嘉兴）有限公司": "科莱恩",
    "浙江吴中化工有限公司": "吴中",
    "琦光新材料科技（平湖）有限公司": "琦光",
    "浙江创摩新材料有限公司": "创摩",
    "浙江星皓包装材料有限公司": "星皓",
    "嘉兴道默工程塑料有限公司": "道默",
    "浙江景兴纸业股份有限公司": "景兴",
    "浙江荣晟环保纸业股份有限公司": "荣晟",
    "浙江传化化工科技有限公司": "传化",
    "浙江怡丰智能锁业有限公司": "怡丰",
    "干将新材料有限公司": "干将",
    "嘉兴德永纺织品有限公司": "德永",
    "浙江丹麒包装科技有限公司": "丹麒",
    "浙江卫星能源有限公司": "卫星",
    "浙江盛重新能源科技有限公司": "盛重",
    "浙江鸿禧能源有限公司": "鸿禧",
    "平湖欧筑产业园开发有限公司": "欧筑",
    "苏州纳微科技股份有限公司": "纳微",
    "博格隆（浙江）生物技术有限公司": "博格隆",
    "浙江桃李面包有限公司": "桃李",
    "开拓药业（浙江）有限公司": "开拓",
    "艾地盟食品科技（平湖）有限公司": "艾地盟",
    "罗德尔生物制药有限公司": "罗德尔",
    "浙江瑞瀚医疗器材制造有限公司": "瑞瀚",
    # 002 附件 leading firms of Jiaxing's clusters
    "闻泰通讯": "闻泰",
    "斯达半导": "斯达",
    "天通精电": "天通",
    "格科微电子": "格科",
    "日善": "日善",
    "立讯智造": "立讯",
    "秦山核电": "秦山",
    "中核核电运行": "中核",
    "天通控股": "天通",
    "天通瑞宏": "瑞宏",
    "立昂东芯": "立昂",
    "芯晖装备": "芯晖",
    "奕斯伟": "奕斯伟",
    "巨石集团": "巨石",
    "华友钴业": "华友",
    "桐昆": "桐昆",
    "新凤鸣": "新凤鸣",
    "玛氏食品": "玛氏",
    "雅培营养品": "雅培",
    "荷美尔食品": "荷美尔",
    "美锦国鸿": "美锦",
    "国鸿": "国鸿",
    "重塑": "重塑",
    "嘉化能源": "嘉化",
    "福莱特": "福莱特",
    "隆基": "隆基",
    "阿特斯": "阿特斯",
    "金瑞泓": "金瑞泓",
    "方芯电子": "方芯",
    # platforms named in 001
    "抖音": "抖音",
    "京东": "京东",
    "快手": "快手",
}

#: The words no invented name may contain.
FORBIDDEN_WORDS: tuple[str, ...] = tuple(sorted(set(REAL_NAMES.values()), key=lambda w: (-len(w), w)))

# Characters for invented brand words: common, neutral characters of Chinese firm names.
BRAND_CHARS = (
    "安邦宝博昌晨诚达德鼎东恩帆丰福富港高冠光广海瀚豪浩禾和弘宏华辉汇佳嘉建杰锦晶精景久骏凯康"
    "科坤朗力立利联良林隆迈茂美敏明铭诺鹏谱琪启骐千乾强勤青庆瑞睿润森尚升盛晟世顺泰腾天通拓威"
    "维伟文协鑫欣星兴旭雅亚扬耀益毅银永宇裕元远跃展兆哲振正致中卓宗航峰澳博雷霖灵璟驰策"
)
BRAND_CHARS = "".join(dict.fromkeys(BRAND_CHARS))  # de-duplicate, keep order

#: Place prefixes of domestic firms and their weights.
PREFIXES = ("平湖", "平湖市", "浙江", "嘉兴")
PREFIX_WEIGHTS = (0.45, 0.20, 0.25, 0.10)
#: Infixes of foreign-owned firms ("瑞朗（平湖）精密机械有限公司").
FOREIGN_INFIXES = ("（平湖）", "（浙江）", "（嘉兴）", "（中国）")

#: Invented foreign investors (generic on purpose: no real company carries invented figures).
FOREIGN_INVESTORS = (
    "某日本株式会社（示例）",
    "某德国有限公司（示例）",
    "某美国公司（示例）",
    "某韩国株式会社（示例）",
    "某新加坡私人有限公司（示例）",
)
HMT_INVESTORS = ("某香港投资有限公司（示例）", "某台湾企业（示例）")
FORTUNE500_INVESTOR = "某世界500强企业（示例）"

_FORBIDDEN_RE = re.compile("|".join(re.escape(w) for w in FORBIDDEN_WORDS))


def contains_real_name(name: str) -> str | None:
    """The forbidden word that `name` contains, or None."""
    m = _FORBIDDEN_RE.search(name)
    return m.group(0) if m else None


def forbidden_mask(names: pa.Array) -> np.ndarray:
    """Boolean mask of names containing any forbidden word (one vectorised regex pass)."""
    pattern = "|".join(re.escape(w) for w in FORBIDDEN_WORDS)
    hit = pc.match_substring_regex(names, pattern)
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


class BrandWords:
    """A bijection from integers to invented brand words, unique for distinct integers.

    Index k < n2 gives a 2-character word (ordered pair of different characters); larger indexes
    give 3-character words. Words are returned as arrays of character indexes.
    """

    def __init__(self, chars: str = BRAND_CHARS) -> None:
        self.chars = np.array(list(chars), dtype=object)
        c = len(chars)
        self.c = c
        self.n2 = c * (c - 1)
        self.n3 = c * (c - 1) * (c - 1)
        self.size = self.n2 + self.n3

    def decode(self, k: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Character indexes (c1, c2, c3); c3 is -1 for 2-character words."""
        k = np.asarray(k, dtype=np.int64)
        c = self.c
        two = k < self.n2
        k2 = np.where(two, k, 0)
        a2 = k2 // (c - 1)
        b2 = k2 % (c - 1)
        b2 = b2 + (b2 >= a2)  # skip a repeated character
        k3 = np.where(two, 0, k - self.n2)
        a3 = k3 // ((c - 1) * (c - 1))
        rest = k3 % ((c - 1) * (c - 1))
        b3 = rest // (c - 1)
        b3 = b3 + (b3 >= a3)
        d3 = rest % (c - 1)
        d3 = d3 + (d3 >= b3)
        c1 = np.where(two, a2, a3)
        c2 = np.where(two, b2, b3)
        c3 = np.where(two, -1, d3)
        return c1, c2, c3


class AffinePermutation:
    """A pseudo-random bijection on [0, space): position i -> (a*i + b) mod space, gcd(a, space) = 1.

    Distinct positions give distinct values without materialising the space, so millions of
    unique keys (brand words, USCC bodies) cost one vectorised expression. Needs space < 2**43.
    """

    def __init__(self, space: int, rng: np.random.Generator) -> None:
        self.space = int(space)
        while True:
            a = int(rng.integers(self.space // 3 + 1, max(self.space // 3 + 2, self.space - 1)))
            if np.gcd(a, self.space) == 1:
                break
        self.a = a
        self.b = int(rng.integers(0, self.space))

    def __call__(self, positions: np.ndarray) -> np.ndarray:
        i = np.asarray(positions, dtype=np.int64)
        a_hi, a_lo = divmod(self.a, 1 << 20)  # split a so that no product overflows int64
        prod = ((a_hi * i) % self.space * (1 << 20) + a_lo * i) % self.space
        return (prod + self.b) % self.space


def build_names(
    rng: np.random.Generator,
    sector_words: list[list[str]],
    sector: np.ndarray,
    foreign: np.ndarray,
    listed: np.ndarray,
    style: Any = None,
) -> pa.Array:
    """Invented, distinct names for firms of the given sectors (vectorised; millions are fine).

    Brand words are distinct per firm while they last (2-character words up to about a thousand
    firms per 1,000 words; 3-character words beyond), so names are unique. A name that happens to
    contain a forbidden word gets the next unused brand word.
    """
    n = len(sector)
    place = tuple(style.prefixes) if style is not None else PREFIXES
    place_p = tuple(style.weights) if style is not None else PREFIX_WEIGHTS
    infix_words = tuple(style.foreign_infixes) if style is not None else FOREIGN_INFIXES
    words = BrandWords()
    # Small runs: every firm gets its own 2-character brand word, place prefix drawn freely.
    # Large runs (benchmarks): the key is (brand word, place), so a word recurs with another place.
    small = n * 3 <= words.n2
    space = words.n2 if small else words.size * len(place)
    if n > space:
        raise ValueError(f"too many firms for distinct names: {n} > {space}")
    n_words = np.array([len(w) for w in sector_words])
    word_pick = (rng.random(n) * n_words[sector]).astype(np.int64)
    flat_words = [w for ws in sector_words for w in ws]
    offsets = np.concatenate([[0], np.cumsum(n_words)[:-1]]).astype(np.int64)
    industry = pa.array(flat_words, pa.string()).take(pa.array(offsets[sector] + word_pick))
    free_prefix = rng.choice(len(place), size=n, p=place_p)
    free_infix = (rng.random(n) < 0.35).astype(np.int64)
    foreign_a = pa.array(np.asarray(foreign, dtype=bool))
    suffix = pc.if_else(pa.array(np.asarray(listed, dtype=bool)), pa.scalar("股份有限公司"), pa.scalar("有限公司"))
    chars = pa.array(list(words.chars) + [""], pa.string())
    prefixes = pa.array(place, pa.string())
    infixes = pa.array(infix_words, pa.string())

    perm = AffinePermutation(space, rng)
    positions = np.arange(n, dtype=np.int64)
    next_position = n
    for _ in range(100):
        keys = perm(positions)
        if small:
            word, p_idx, i_idx = keys, free_prefix, free_infix
        else:
            word, p_idx = keys // len(place), keys % len(place)
            i_idx = p_idx
        c1, c2, c3 = words.decode(word)
        c3 = np.where(c3 < 0, len(words.chars), c3)
        prefix = pc.if_else(foreign_a, pa.scalar(""), prefixes.take(pa.array(p_idx)))
        infix = pc.if_else(foreign_a, infixes.take(pa.array(i_idx)), pa.scalar(""))
        names = pc.binary_join_element_wise(
            prefix,
            chars.take(pa.array(c1)),
            chars.take(pa.array(c2)),
            chars.take(pa.array(c3)),
            infix,
            industry,
            suffix,
            "",
        )
        bad = np.flatnonzero(forbidden_mask(names))
        if len(bad) == 0:
            return names
        if next_position + len(bad) > space:
            break
        positions[bad] = np.arange(next_position, next_position + len(bad))
        next_position += len(bad)
    raise RuntimeError("could not avoid forbidden words in invented names")
