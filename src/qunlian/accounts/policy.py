"""The account-security preset (accounts/presets/*.yaml): password rules, first sign-in change,
account lockout. Strict schema, loaded by ``qunlian.platform.rules``; pure (no web, no store).

QUNLIAN_ACCOUNT_POLICY  path of a preset to use instead of the shipped one (same format; docs/web.md §2)
"""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator

from qunlian.core.messages import N_, Message
from qunlian.platform.rules import Dated, RulesError, StrictValues, Text, load

HERE = Path(__file__).parent
PRESET_DIR = HERE / "presets"
DATA_DIR = HERE / "data"
DEFAULT_PRESET = "account-security-2025.yaml"
FORMAT_DOC = "docs/web.md"
ENV = "QUNLIAN_ACCOUNT_POLICY"


class PasswordRules(StrictValues):
    min_length: int = Field(ge=8, le=128)
    max_length: int = Field(ge=8, le=1024)
    # of the four kinds: lower-case letters, upper-case letters, digits, other characters
    min_classes: int = Field(ge=1, le=4)
    refuse_username: bool = True
    # a file of common passwords (one a line, "#" comments): relative to the preset's folder, else
    # to the package's accounts/data
    common_list: str | None = None

    @model_validator(mode="after")
    def _order(self) -> PasswordRules:
        if self.max_length < self.min_length:
            raise ValueError(f"max_length {self.max_length} is below min_length {self.min_length}")
        return self


class Lockout(StrictValues):
    max_failures: int = Field(ge=3, le=100)
    window_minutes: int = Field(ge=1, le=24 * 60)


class AccountPolicy(Dated):
    """The shared header (id, version, effective years, sources) and the account rules."""

    title: Text
    rationale: Text
    password: PasswordRules
    first_sign_in_change: bool
    lockout: Lockout


class PolicyError(RulesError):
    """An account-security preset was refused: file, key path, line and fix of every problem."""

    kind = N_("规则文件")


@dataclass(frozen=True)
class Policy:
    """A loaded preset with its common-password list."""

    rules: AccountPolicy
    common: frozenset[str]
    path: str

    @property
    def password(self) -> PasswordRules:
        return self.rules.password

    @property
    def lockout(self) -> Lockout:
        return self.rules.lockout


def load_policy(path: str | Path | None = None) -> Policy:
    """The preset at ``path``, else at QUNLIAN_ACCOUNT_POLICY, else the shipped one."""
    chosen = path or os.environ.get(ENV, "").strip() or PRESET_DIR / DEFAULT_PRESET
    return _load(str(Path(chosen).resolve()))


@lru_cache(maxsize=8)
def _load(path: str) -> Policy:
    rules = load(AccountPolicy, Path(path), error=PolicyError, doc=FORMAT_DOC)
    common: frozenset[str] = frozenset()
    name = rules.password.common_list
    if name:
        candidates = [Path(name)] if Path(name).is_absolute() else [Path(path).parent / name, DATA_DIR / name]
        found = next((c for c in candidates if c.is_file()), None)
        if found is None:
            raise PolicyError.one(Message("找不到常见密码表 %(name)s", name=name), file=path,
                                  key="password.common_list",
                                  fix="写预设文件所在目录或 qunlian 的 accounts/data 下的文件名，或绝对路径")
        common = frozenset(_read_list(found))
    return Policy(rules=rules, common=common, path=path)


def _read_list(path: Path) -> list[str]:
    lines = (line.strip().lower() for line in path.read_text(encoding="utf-8").splitlines())
    return [x for x in lines if x and not x.startswith("#")]


# --------------------------------------------------------------------------- checks

CLASS_NAMES = (N_("小写字母"), N_("大写字母"), N_("数字"), N_("其他符号"))
# common letter substitutions undone before the list is consulted (p@ssw0rd → password)
_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "3": "e", "$": "s", "5": "s", "7": "t", "!": "i", "1": "i"})


def character_classes(password: str) -> set[int]:
    kinds = set()
    for ch in password:
        if ch.islower():
            kinds.add(0)
        elif ch.isupper():
            kinds.add(1)
        elif ch.isdigit():
            kinds.add(2)
        else:
            kinds.add(3)
    return kinds


def _core(word: str) -> str:
    """The word without leading and trailing digits and symbols (Summer2024! → summer)."""
    start, end = 0, len(word)
    while start < end and not word[start].isalpha():
        start += 1
    while end > start and not word[end - 1].isalpha():
        end -= 1
    return word[start:end]


def _variants(password: str) -> set[str]:
    low = unicodedata.normalize("NFKC", password).strip().lower()
    out = {low, _core(low), low.translate(_LEET), _core(low).translate(_LEET),
           _core(low.translate(_LEET)), low.replace("1", "l").translate(_LEET)}
    return {v for v in out if len(v) >= 4}


def is_common(password: str, policy: Policy) -> bool:
    return bool(policy.common) and not _variants(password).isdisjoint(policy.common)


def password_problems(password: str, username: str = "", policy: Policy | None = None) -> list[str]:
    """What is wrong with a new password, each with what to do (Chinese msgids as Messages); [] when fine."""
    policy = policy or load_policy()
    rules = policy.password
    problems: list[str] = []
    if len(password) < rules.min_length:
        problems.append(Message("密码太短：至少 %(n)s 个字符（现有 %(have)s 个）；可用几个词加数字和符号组成",
                                n=rules.min_length, have=len(password)))
    if len(password) > rules.max_length:
        problems.append(Message("密码太长：最多 %(n)s 个字符", n=rules.max_length))
    kinds = character_classes(password)
    if len(kinds) < rules.min_classes:
        missing = "、".join(CLASS_NAMES[i] for i in range(4) if i not in kinds)
        problems.append(Message("密码须含 小写字母、大写字母、数字、其他符号 中至少 %(n)s 类（现有 %(have)s 类）；"
                                "可加上：%(missing)s", n=rules.min_classes, have=len(kinds), missing=missing))
    name = username.strip().lower()
    if rules.refuse_username and name and name in password.lower():
        problems.append(Message("密码不能包含用户名 %(name)s：请换一个与用户名无关的密码", name=username.strip()))
    if is_common(password, policy):
        problems.append(N_("这是常见密码（或在常见密码前后加数字、符号，或把字母换成形近的数字、符号），"
                           "很容易被猜中：请换一个不常见的词组"))
    return problems
