"""Data notes (数据说明) on the shipped plan data: the contradictions and doubtful readings of the seeds.

One file per plan, ``plans/data/notes/<plan code>.yaml`` (schema ``NotesFile``), read through
``qunlian.platform.rules`` like the plan files. Every note names one item of its plan — the plan
itself, an indicator (code), a task or project (seq) or a town cell (indicator and town) — and that
item must exist in the plan as the loader reads it: a note on a missing item is refused, naming the
note and the item. Notes are package data, not rows of the store: ``notes_for`` needs no session, so
the pages, the CLI and the reports read the same notes whether or not a plan was loaded.
"""

from __future__ import annotations

import functools
from importlib import resources
from importlib.abc import Traversable
from typing import Any

from qunlian.core.errors import Problem
from qunlian.core.messages import N_, Message
from qunlian.targets.plans.loader import (
    PlanDataError,
    parse_file,
    plan_codes,
    read_plan_file,
)
from qunlian.targets.plans.schema import (
    IndicatorRef,
    NotesFile,
    PlanFile,
    ProjectRef,
    TaskRef,
    TownCellRef,
    item_key,
)

#: the item kinds as the pages and the CLI name them (msgids)
ITEM_KINDS = {"plan": N_("规划"), "indicator": N_("指标"), "task": N_("任务"), "project": N_("重点项目"),
              "town_cell": N_("镇街道目标")}
#: the note kinds (msgids)
NOTE_KINDS = {"contradiction": N_("原文矛盾"), "doubtful_reading": N_("存疑读法")}


def _notes_dir() -> Traversable:
    return resources.files("qunlian.targets.plans") / "data" / "notes"


def note_files() -> list[Traversable]:
    """The shipped notes files (one per plan that has notes; the file name is the plan code)."""
    d = _notes_dir()
    if not d.is_dir():
        return []
    return sorted((p for p in d.iterdir() if p.name.endswith(".yaml")), key=lambda p: p.name)


def _labels(spec: PlanFile) -> dict[tuple[str, str], str]:
    """(item kind, key) → a label, for every item of the plan a note may name."""
    out: dict[tuple[str, str], str] = {("plan", spec.code): spec.title}
    for i in spec.indicators:
        out[("indicator", i.code)] = f"{i.table} {i.seq} {i.name}"
        for cells in i.town_targets.values():
            for town in cells:  # a "-" cell too: it is printed, though nothing is stored
                out[("town_cell", f"{i.code}/{town}")] = f"{i.table} {i.seq} {i.name} · {town}"
    for c in spec.clusters:
        out[("indicator", f"va-{c.code}")] = f"附件 {c.seq} {c.county}{c.industry}"
    for t in spec.tasks:
        out[("task", str(t.seq))] = f"{t.seq}. {t.heading}"
    for p in spec.projects:
        out[("project", str(p.seq))] = f"{p.seq}. {p.name}"
    return out


def _missing(ref: Any, plan: str) -> Message:
    if isinstance(ref, IndicatorRef):
        return Message("规划 %(plan)s 中没有指标 %(key)s", plan=plan, key=repr(ref.code))
    if isinstance(ref, TaskRef):
        return Message("规划 %(plan)s 中没有序号为 %(key)s 的任务", plan=plan, key=ref.seq)
    if isinstance(ref, ProjectRef):
        return Message("规划 %(plan)s 中没有序号为 %(key)s 的重点项目", plan=plan, key=ref.seq)
    if isinstance(ref, TownCellRef):
        return Message("规划 %(plan)s 的指标 %(key)s 没有镇街道 %(town)s 的目标格", plan=plan,
                       key=repr(ref.indicator), town=repr(ref.town))
    return Message("没有规划 %(plan)s", plan=repr(plan))


def read_notes_text(text: str, name: str, plan: PlanFile | None = None) -> list[dict[str, Any]]:
    """The notes of one notes file's text, checked against its plan (read from the shipped plan file
    unless ``plan`` is given). Refused with every problem at once: the schema's, and each note whose
    item the plan does not hold (naming the note id and the item)."""
    nf = parse_file(NotesFile, name, text)
    spec = plan or read_plan_file(nf.plan)
    if spec.code != nf.plan:
        raise PlanDataError.one(Message("数据说明文件写的规划 %(plan)s 与 %(code)s 不同", plan=repr(nf.plan),
                                        code=spec.code), file=name, key="plan")
    labels = _labels(spec)
    problems: list[Problem] = []
    out = []
    for k, n in enumerate(nf.notes):
        key = item_key(n.item, nf.plan)
        label = labels.get((n.item.kind, key))
        if label is None:
            problems.append(Problem(Message("数据说明 %(id)s：%(reason)s", id=n.id, reason=_missing(n.item, nf.plan)),
                                    fix=N_("item 写规划文件中已有的条目：指标写 code，任务和项目写 seq，镇街道目标写指标 code 和镇街道名"),
                                    file=name, column=f"notes.{k}.item"))
            continue
        out.append({
            "id": n.id, "plan": nf.plan, "item_kind": n.item.kind, "item_key": key, "item_label": label,
            "kind": n.kind, "text_zh": n.text_zh, "text_en": n.text_en,
            "sources": [{"seed": s.seed, "section": s.section, "quote": s.quote} for s in n.sources],
        })
    if problems:
        raise PlanDataError.of(name, problems)
    return out


@functools.cache
def _shipped(code: str) -> tuple[dict[str, Any], ...]:
    path = _notes_dir() / f"{code}.yaml"
    if not path.is_file():
        return ()
    notes = read_notes_text(path.read_text(encoding="utf-8"), path.name)
    if notes and notes[0]["plan"] != code:
        raise PlanDataError.one(Message("%(plan)s 与文件名不同", plan=repr(notes[0]["plan"])), file=path.name,
                                key="plan", fix=f"把 plan 改为 {code}，或把文件改名为 {notes[0]['plan']}.yaml")
    return tuple(notes)


def check_shipped_notes() -> int:
    """Read and check every shipped notes file (``qunlian init`` calls this): ids unique across all
    plans, every file named after a shipped plan. Returns the number of notes."""
    seen: dict[str, str] = {}
    codes = set(plan_codes())
    n = 0
    for path in note_files():
        code = path.name.removesuffix(".yaml")
        if code not in codes:
            raise PlanDataError.one(Message("没有规划 %(code)s", code=repr(code)), file=path.name,
                                    fix=Message("可用的规划：%(codes)s", codes=", ".join(sorted(codes))))
        for note in _shipped(code):
            if note["id"] in seen:
                raise PlanDataError.one(Message("数据说明编号 %(id)s 重复（%(other)s 中已有）", id=note["id"],
                                                other=seen[note["id"]]), file=path.name, key="notes.id")
            seen[note["id"]] = path.name
            n += 1
    return n


def notes_for(plan_code: str, kind: str | None = None, key: str | int | None = None) -> list[dict[str, Any]]:
    """The data notes of a plan, in file order; only those on items of ``kind`` (plan, indicator,
    task, project, town_cell) and, with ``key``, on that item (indicator code, task or project seq,
    ``indicator/town``). Each note: id, plan, item_kind, item_key, item_label, kind (contradiction |
    doubtful_reading), text_zh, text_en, sources [{seed, section, quote}]. [] for a plan without notes."""
    out = [{**n, "sources": [dict(s) for s in n["sources"]]} for n in _shipped(plan_code)]  # copies
    if kind is not None:
        out = [n for n in out if n["item_kind"] == kind]
    if key is not None:
        out = [n for n in out if n["item_key"] == str(key)]
    return out


def notes_on_indicator(plan_code: str, code: str, town: str | None = None) -> list[dict[str, Any]]:
    """The notes on an indicator and on its town cells (only ``town``'s when a town is given)."""
    cells = [n for n in notes_for(plan_code, "town_cell") if n["item_key"].startswith(f"{code}/")
             and (town is None or n["item_key"] == f"{code}/{town}")]
    return notes_for(plan_code, "indicator", code) + cells


def notes_by_item(plan_code: str) -> dict[str, list[dict[str, Any]]]:
    """The plan's notes grouped by item, keyed ``kind:key`` ("task:1", "indicator:rd-intensity",
    "town_cell:t23-va-growth/当湖街道"): what the pages look up next to each item."""
    out: dict[str, list[dict[str, Any]]] = {}
    for n in notes_for(plan_code):
        out.setdefault(f"{n['item_kind']}:{n['item_key']}", []).append(n)
    return out


__all__ = ["ITEM_KINDS", "NOTE_KINDS", "check_shipped_notes", "note_files", "notes_by_item", "notes_for",
           "notes_on_indicator", "read_notes_text"]
