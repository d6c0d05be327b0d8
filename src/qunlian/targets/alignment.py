"""Alignment across levels: the same indicator in the province, 嘉兴 and 平湖 plans, side by side.

Pure: takes plain rows (one per plan indicator), groups them by concept, and flags differences —
different targets for the same year, a lower level that asks for less than the level above it
(for a higher-is-better indicator), different units, or a different scope (工业 vs 制造业).

Which plan is "above" which follows the region hierarchy, not the level text: each row carries its
region's code and the codes of the regions above it (``region_code``, ``ancestors``), so a 平湖 plan
is compared with 嘉兴's and the province's, never with a sibling county's. Rows without them (plain
data given to the function) fall back to the level order.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from qunlian.targets.concepts import concept, concept_of

LEVEL_ORDER = {"province": 0, "city": 1, "county": 2}
LEVEL_ZH = {"province": "省", "city": "市", "county": "县（市）"}


def _f(x: float | None) -> str:
    if x is None:
        return "—"
    return f"{x:.4f}".rstrip("0").rstrip(".")


def _above(upper: dict[str, Any], lower: dict[str, Any]) -> bool:
    """Whether ``upper``'s plan is for a region above ``lower``'s (so lower's targets answer to it)."""
    if "ancestors" in lower and upper.get("region_code"):
        return upper["region_code"] in lower["ancestors"]
    return LEVEL_ORDER.get(upper["level"], 9) < LEVEL_ORDER.get(lower["level"], 9)


def _related(a: dict[str, Any], b: dict[str, Any]) -> bool:
    same = a.get("region_code") is not None and a.get("region_code") == b.get("region_code")
    return same or _above(a, b) or _above(b, a)


def align(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Group plan indicators by concept and flag differences.

    Each input row: plan, plan_title, level, region, indicator (name), code, unit, direction,
    baseline_year, baseline_value, targets {year: {"value", "text", "kind"}}.
    Returns one entry per concept that appears in at least two plans.
    """
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        hit = concept_of(r["indicator"], r.get("code"))
        if hit:
            c, scope = hit
            # one row per plan and concept: the plan's main table, not its town decomposition
            if any(m["plan"] == r["plan"] for m in groups[c.key]):
                continue
            groups[c.key].append({**r, "scope": scope})
    out = []
    for key, members in groups.items():
        if len({m["plan"] for m in members}) < 2:
            continue
        members.sort(key=lambda m: (len(m.get("ancestors", ())) if "ancestors" in m else LEVEL_ORDER.get(m["level"], 9),
                                    m["plan"]))
        flags: list[dict[str, Any]] = []
        years = sorted({y for m in members for y in m["targets"]})
        for y in years:
            have = [(m, m["targets"][y]) for m in members if y in m["targets"] and m["targets"][y].get("value") is not None]
            # only plans on one line of the hierarchy can disagree: two sibling counties may differ
            clashing = [(m, t) for m, t in have
                        if any(t["value"] != t2["value"] and _related(m, m2) for m2, t2 in have)]
            if clashing:
                desc = "，".join(f"{m['region']}《{m['plan_title']}》{t['text']}" for m, t in clashing)
                flags.append({"kind": "different_target", "year": y,
                              "message": f"{y} 年目标不一致：{desc}",
                              "values": {m["plan"]: t["value"] for m, t in clashing}})
            for upper, tu in have:
                for lower, tl in have:
                    if not _above(upper, lower):
                        continue
                    weaker = tl["value"] < tu["value"] if upper.get("direction", "higher") == "higher" \
                        else tl["value"] > tu["value"]
                    if weaker and lower["unit"] == upper["unit"]:
                        flags.append({"kind": "weaker_than_upper", "year": y,
                                      "message": f"{y} 年 {lower['region']} 目标 {_f(tl['value'])} "
                                                 f"{'低于' if upper.get('direction', 'higher') == 'higher' else '高于'}"
                                                 f"上级 {upper['region']} 目标 {_f(tu['value'])}",
                                      "plans": [lower["plan"], upper["plan"]]})
        units = {m["unit"] for m in members}
        if len(units) > 1:
            flags.append({"kind": "different_unit", "message": "单位不同：" + "、".join(sorted(units))})
        scopes = {m["scope"] for m in members}
        if len(scopes) > 1:
            flags.append({"kind": "different_scope",
                          "message": "口径不同：" + "；".join(f"{m['region']} {m['indicator']}" for m in members)})
        c = concept(key)
        out.append({
            "concept": key,
            "label": c.label,
            "plans": [{k: m[k] for k in ("plan", "plan_title", "level", "region", "indicator", "code", "unit",
                                         "scope", "baseline_year", "baseline_value", "targets")} for m in members],
            "years": years,
            "flags": flags,
            "flagged": bool(flags),
        })
    out.sort(key=lambda e: (not e["flagged"], e["concept"]))
    return out
