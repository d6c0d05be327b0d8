"""统一社会信用代码 (GB 32100-2015) validation and construction.

18 characters: 登记管理部门 (1) + 机构类别 (1) + 行政区划 (6) + 主体标识码 (9, GB 11714, with its own
check digit) + 校验码 (1). See REFERENCE §3. A few real codes fail the checksum: callers pass the
audited exception list (store table ``uscc_exceptions``) and such codes are accepted with a note.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters, no I O S V Z
VALUE = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 3^(i-1) mod 31 for positions 1..17
ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]  # GB 11714 for characters 9..16, check digit at 17
ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # GB 11714 body characters
DIVISION = re.compile(r"^\d{6}$")


@dataclass(frozen=True)
class UsccCheck:
    code: str
    valid: bool
    reason: str  # Chinese first; "合法" when valid
    exception: bool = False  # accepted only because it is on the audited exception list

    def __str__(self) -> str:
        state = "valid" if self.valid else "invalid"
        return f"{self.code}\t{state}\t{self.reason}"


def check_digit(first17: str) -> str:
    total = sum(VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def org_check_digit(body8: str) -> str:
    total = sum(ORG_ALPHABET.index(c) * w for c, w in zip(body8, ORG_WEIGHTS, strict=True))
    c = 11 - total % 11
    return {10: "X", 11: "0"}.get(c, str(c))


def normalise(code: str) -> str:
    """Strip spaces and full-width characters, upper-case: what a clerk means by the code."""
    out = []
    for ch in str(code).strip():
        o = ord(ch)
        if 0xFF01 <= o <= 0xFF5E:  # full-width ASCII
            ch = chr(o - 0xFEE0)
        if not ch.isspace():
            out.append(ch)
    return "".join(out).upper()


def check_uscc(code: str, exceptions: Collection[str] = ()) -> UsccCheck:
    """Validate one code and say why it fails. Never raises for bad input."""
    raw = normalise(code) if code is not None else ""
    result = _check(raw)
    if not result.valid and raw in exceptions:
        return UsccCheck(raw, True, f"校验未通过（{result.reason}），但已列入经审核的例外清单", exception=True)
    return result


def _check(code: str) -> UsccCheck:
    if not code:
        return UsccCheck(code, False, "代码为空：请填写 18 位统一社会信用代码")
    if len(code) != 18:
        return UsccCheck(code, False, f"长度为 {len(code)} 位，应为 18 位")
    bad = [c for c in code if c not in VALUE]
    if bad:
        return UsccCheck(
            code, False, f"含有不允许的字符 {''.join(sorted(set(bad)))}（代码不使用 I、O、S、V、Z 及其他符号）"
        )
    if not DIVISION.match(code[2:8]):
        return UsccCheck(code, False, f"第 3–8 位行政区划码 {code[2:8]} 应为 6 位数字")
    expected = check_digit(code[:17])
    if code[17] != expected:
        return UsccCheck(code, False, f"校验码错误：第 18 位为 {code[17]}，按 GB 32100-2015 应为 {expected}")
    org = code[8:17]
    if all(c in ORG_ALPHABET for c in org[:8]) and org_check_digit(org[:8]) != org[8]:
        return UsccCheck(
            code, False, f"主体标识码 {org} 的校验位错误：第 17 位为 {org[8]}，按 GB 11714 应为 {org_check_digit(org[:8])}"
        )
    return UsccCheck(code, True, "合法")


def make_uscc(division: str, body8: str, department: str = "9", category: str = "1") -> str:
    """Build a valid code (department 9 = 工商, category 1 = 企业) from a division and an 8-char body."""
    if not DIVISION.match(division):
        raise ValueError(f"division code must be 6 digits, got {division!r}")
    body8 = body8.upper()
    if len(body8) != 8 or any(c not in ALPHABET for c in body8):
        raise ValueError(f"body must be 8 characters of {ALPHABET}, got {body8!r}")
    first17 = department + category + division + body8 + org_check_digit(body8)
    return first17 + check_digit(first17)
