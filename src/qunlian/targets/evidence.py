"""佐证材料: evidence files attached to a ledger task (and, when given, to one of its progress notes).

The bytes are stored in the database next to their record (`TaskEvidence`), so an upload is stored
whole or not at all and a database backup is a backup of the evidence. Rules:

- size: 1 byte up to `Settings.evidence_max_bytes` (QUNLIAN_EVIDENCE_MAX_MB, default 20 MB);
- type: by the extension *and* the content, which must agree: PDF, OFD, PNG/JPEG/GIF/WebP images,
  Word/Excel/PowerPoint (OOXML without macros, or the 97-2003 OLE formats) and plain text (TXT/CSV in
  UTF-8 or GB18030). Archives, executables, scripts, HTML and SVG are refused;
- the file name is cleaned (no path parts, control or bidi characters, at most 120 characters);
- a closed (销号) task takes no new evidence and loses none; reopen it first;
- the same content twice on one task is refused, naming the earlier upload;
- only the uploader or an admin deletes a file (the web layer decides who may upload and download).

Every add and delete is written to the audit log in the caller's transaction; a refusal stores nothing.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from qunlian.targets.lookup import TargetsError, get_plan
from qunlian.platform.config import load_settings
from qunlian.core.errors import Problem, ValidationFailed
from qunlian.core.messages import N_, Message
from qunlian.platform.db import audit
from qunlian.targets.models import Plan, PlanTask, TaskEvidence, TaskProgress

MAX_NAME = 120  # characters of a cleaned file name (the column holds 200)
MAX_DESCRIPTION = 300
SUMMARY = N_("佐证材料未被接受，未保存任何内容")

# extension → (sniffed kind the content must be, MIME type sent on download, label for messages)
TYPES: dict[str, tuple[str, str, str]] = {
    ".pdf": ("pdf", "application/pdf", "PDF 文档"),
    ".ofd": ("ofd", "application/ofd", "OFD 版式文档"),
    ".png": ("png", "image/png", "PNG 图片"),
    ".jpg": ("jpeg", "image/jpeg", "JPEG 图片"),
    ".jpeg": ("jpeg", "image/jpeg", "JPEG 图片"),
    ".gif": ("gif", "image/gif", "GIF 图片"),
    ".webp": ("webp", "image/webp", "WebP 图片"),
    ".docx": ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word 文档"),
    ".xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel 工作簿"),
    ".pptx": ("pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
              "PowerPoint 演示文稿"),
    ".doc": ("ole", "application/msword", "Word 97-2003 文档"),
    ".xls": ("ole", "application/vnd.ms-excel", "Excel 97-2003 工作簿"),
    ".ppt": ("ole", "application/vnd.ms-powerpoint", "PowerPoint 97-2003 演示文稿"),
    ".txt": ("text", "text/plain", "纯文本"),
    ".csv": ("text", "text/csv", "CSV 文本"),
}
ACCEPTED = "PDF、OFD、图片（PNG、JPEG、GIF、WebP）、Word/Excel/PowerPoint 文档（含 97-2003 格式）、纯文本（TXT、CSV）"
# what a sniffed kind is called when it does not match the extension, and the extension it should have
_KIND_LABEL = {
    "pdf": ("PDF 文档", ".pdf"), "ofd": ("OFD 版式文档", ".ofd"), "png": ("PNG 图片", ".png"),
    "jpeg": ("JPEG 图片", ".jpg"), "gif": ("GIF 图片", ".gif"), "webp": ("WebP 图片", ".webp"),
    "docx": ("Word 文档", ".docx"), "xlsx": ("Excel 工作簿", ".xlsx"), "pptx": ("PowerPoint 演示文稿", ".pptx"),
    "ole": ("Office 97-2003 文档", ".doc/.xls/.ppt"), "text": ("纯文本", ".txt"),
}
_EXECUTABLE = (b"MZ", b"\x7fELF", b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"#!")
_ARCHIVES = (b"PK\x03\x04", b"PK\x05\x06", b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"BZh")
# control bytes other than tab, newline, form feed and carriage return; in UTF-8 and GB18030 a byte
# below 0x20 (or 0x7f) is always that ASCII character, never part of a multi-byte one
_BINARY = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_UNSAFE_NAME = re.compile(r'[<>:"/\\|?*]')


# --------------------------------------------------------------------------- limits and checks


def max_evidence_bytes() -> int:
    return load_settings().evidence_max_bytes


def human_size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n / 1048576:.1f} MB"


def size_problem(filename: str, size: int, max_bytes: int | None = None) -> Problem | None:
    """The problem with a file of `size` bytes, if any (callers check before reading a large file)."""
    limit = max_evidence_bytes() if max_bytes is None else max_bytes
    if size == 0:
        return Problem(N_("文件为空（0 字节）"), "检查是否选错了文件，或文件是否已完整保存，再重新上传",
                       file=filename or None)
    if size > limit:
        shown = f"{limit / 1048576:.3g} MB" if limit >= 1048576 else human_size(limit)
        return Problem(Message("文件过大：%(size)s，超过上限 %(limit)s", size=human_size(size), limit=shown),
                       "压缩图片、把 PDF 拆成几个文件分别上传，或只上传关键页；"
                       "管理员可用环境变量 QUNLIAN_EVIDENCE_MAX_MB 调整上限", file=filename or None)
    return None


def check_size(filename: str, size: int, max_bytes: int | None = None) -> None:
    """Refuse (ValidationFailed) a file that is empty or over the limit, before its bytes are read."""
    problem = size_problem(filename, size, max_bytes)
    if problem:
        raise ValidationFailed([problem], summary=SUMMARY)


def clean_filename(raw: str) -> str:
    """The uploader's file name made safe to store and to send back: the last path part, no control
    or format characters (U+202E could disguise 'fdp.exe' as 'exe.pdf'), no characters Windows forbids,
    whitespace collapsed, no leading or trailing dots, at most MAX_NAME characters (extension kept)."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]  # whichever system the browser or shell runs on
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    name = _UNSAFE_NAME.sub("_", name)
    name = " ".join(name.split()).strip(" .")
    if len(name) > MAX_NAME:
        stem, ext = os.path.splitext(name)
        ext = ext[:16]
        name = stem[: MAX_NAME - len(ext)].rstrip(" .") + ext
    return name


def sniff(data: bytes) -> str | None:
    """What the bytes are, whatever the name says: a TYPES kind, 'executable', 'archive', or None."""
    head = data[:16]
    if head.startswith(_EXECUTABLE):  # first: a program must not pass for a PDF with "%PDF-" inside
        return "executable"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "ole"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if head.startswith(_ARCHIVES):
        return "archive"
    if b"%PDF-" in data[:1024]:  # some producers put a few bytes before the header
        return "pdf"
    return "text" if _text_charset(data) else None


def _zip_kind(data: bytes) -> str:
    """OOXML and OFD are zip packages; tell them apart by their parts (the central directory only,
    nothing is decompressed). Macro-enabled Office files are 'macro'; any other zip is 'archive'."""
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return "archive"
    if "OFD.xml" in names:
        return "ofd"
    if "[Content_Types].xml" in names:
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            return "macro"
        for kind, folder in (("docx", "word/"), ("xlsx", "xl/"), ("pptx", "ppt/")):
            if any(n.startswith(folder) for n in names):
                return kind
    return "archive"


def _text_charset(data: bytes) -> str | None:
    if _BINARY.search(data):
        return None
    for charset in ("utf-8", "gb18030"):
        try:
            data.decode("utf-8-sig" if charset == "utf-8" else charset)
        except UnicodeDecodeError:
            continue
        return charset
    return None


def _type_problem(filename: str, ext: str, data: bytes) -> tuple[Problem | None, str]:
    """(problem, content type): the extension must be accepted and the content must be what it says."""
    if ext not in TYPES:
        shown = ext or Message("（无扩展名）")
        return Problem(Message("不支持的文件类型 %(ext)s", ext=shown),
                       f"可上传 {ACCEPTED}；压缩包、可执行程序、网页和脚本不接收", file=filename), ""
    expected, mime, label = TYPES[ext]
    spaced = f" {label}" if label[0].isascii() else label  # "不是 PDF 文档", "不是纯文本"
    kind = sniff(data)
    if kind == expected:
        if kind == "text":
            mime += f"; charset={_text_charset(data)}"
        return None, mime
    if kind == "executable":
        message = Message("文件内容是可执行程序或脚本，不是%(label)s", label=spaced)
        fix = "佐证材料只接收文档、图片和纯文本；请上传真正的材料文件"
    elif kind == "macro":
        message = N_("文件含宏（VBA 代码），不接收")
        fix = "在 Office/WPS 中另存为不含宏的 .docx、.xlsx 或 .pptx 后再上传"
    elif kind == "archive":
        message = Message("文件内容是压缩包或无法识别的打包文件，不是%(label)s", label=spaced)
        fix = "解压后逐个上传其中的材料"
    elif kind in _KIND_LABEL:
        other, right_ext = _KIND_LABEL[kind]
        other = f" {other}" if other[0].isascii() else other
        message = Message("文件内容是%(other)s，与扩展名 %(ext)s（%(label)s）不符", other=other, ext=ext, label=label)
        fix = f"把扩展名改为 {right_ext} 后再上传，或选择正确的文件"
    elif expected == "text":
        message = N_("文件内容不是有效的纯文本（含二进制字符，或不是 UTF-8/GB18030 编码）")
        fix = "用记事本或 WPS 另存为 UTF-8 编码的文本后再上传；表格请上传 .xlsx"
    else:
        message = Message("文件内容不是有效的%(label)s（无法识别或已损坏）", label=spaced)
        fix = f"用原软件重新导出或另存为{spaced}后再上传"
    return Problem(message, fix, file=filename), ""


# --------------------------------------------------------------------------- store


def _task(session: Session, plan: Plan, seq: int) -> PlanTask:
    t = session.scalar(select(PlanTask).where(PlanTask.plan_id == plan.id, PlanTask.seq == seq))
    if t is None:
        raise TargetsError(Message("规划 %(plan)s 没有第 %(seq)s 项任务", plan=plan.code, seq=seq))
    return t


_META = (TaskEvidence.id, TaskEvidence.task_id, TaskEvidence.progress_id, TaskEvidence.filename,
         TaskEvidence.content_type, TaskEvidence.size, TaskEvidence.sha256, TaskEvidence.description,
         TaskEvidence.uploaded_by, TaskEvidence.uploaded_at)


def _meta(row: Any, period: str | None = None) -> dict[str, Any]:
    return {"id": row.id, "task_id": row.task_id, "progress_id": row.progress_id, "progress_period": period,
            "filename": row.filename, "content_type": row.content_type, "size": row.size,
            "size_text": human_size(row.size), "sha256": row.sha256, "description": row.description,
            "uploaded_by": row.uploaded_by,
            "uploaded_at": row.uploaded_at.isoformat() if row.uploaded_at else None}


def evidence_by_task(session: Session, task_ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Metadata of the files of these tasks (never their content), oldest first, keyed by task id."""
    ids = list(task_ids)
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if not ids:
        return out
    q = (select(*_META, TaskProgress.period).outerjoin(TaskProgress, TaskProgress.id == TaskEvidence.progress_id)
         .where(TaskEvidence.task_id.in_(ids)).order_by(TaskEvidence.uploaded_at, TaskEvidence.id))
    for row in session.execute(q):
        out[row.task_id].append(_meta(row, row.period))
    return out


def list_evidence(session: Session, plan_code: str, seq: int) -> list[dict[str, Any]]:
    """The files of one task: id, filename, content_type, size, sha256, description, uploader, time."""
    task = _task(session, get_plan(session, plan_code), seq)
    return evidence_by_task(session, [task.id])[task.id]


def add_evidence(session: Session, plan_code: str, seq: int, filename: str, data: bytes, by: str,
                 description: str = "", progress_id: int | None = None,
                 max_bytes: int | None = None) -> dict[str, Any]:
    """Attach a file to a task (optionally to one of its progress notes); returns its metadata.

    Raises TargetsError for an unknown plan or task or a closed task, ValidationFailed (every problem at
    once) for a bad name, size, type, description, progress note or a duplicate. Nothing is stored then.
    """
    plan = get_plan(session, plan_code)
    task = _task(session, plan, seq)
    if task.status == "closed":
        when = f"{task.closed_at:%Y-%m-%d}" if task.closed_at else ""
        raise TargetsError(Message("任务 %(seq)s 已于 %(when)s 由 %(by)s 销号，不能再添加佐证材料；如需补充，先撤销销号",
                                   seq=seq, when=when, by=task.closed_by))
    name = clean_filename(filename)
    problems: list[Problem] = []
    if not name:
        problems.append(Problem(N_("文件名为空或只含不可用字符"),
                                "给文件起一个有意义的名字（如“2024Q2 专精特新名单.pdf”）后再上传", column="filename",
                                value=filename or None))
    by = (by or "").strip()
    if not by or len(by) > 80:
        problems.append(Problem(N_("上传人为空或超过 80 字"), "填写上传人（--by）", column="by"))
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        problems.append(Problem(Message("说明过长：%(n)s 字，上限 %(limit)s 字", n=len(description), limit=MAX_DESCRIPTION),
                                "精简说明，详细内容写在进展说明里", column="description"))
    period = None
    if progress_id is not None:
        note = session.get(TaskProgress, progress_id)
        if note is None or note.task_id != task.id:
            problems.append(Problem(Message("进展记录 %(id)s 不属于任务 %(seq)s", id=progress_id, seq=seq),
                                    "选择本任务的一条进展记录，或不关联", column="progress_id", value=progress_id))
        else:
            period = note.period
    size = len(data)
    mime = ""
    too_big = size_problem(name, size, max_bytes)
    if too_big:
        problems.append(too_big)
    elif name:
        type_problem, mime = _type_problem(name, os.path.splitext(name)[1].lower(), data)
        if type_problem:
            problems.append(type_problem)
    sha = hashlib.sha256(data).hexdigest()
    earlier = session.execute(select(*_META).where(TaskEvidence.task_id == task.id, TaskEvidence.sha256 == sha)
                              .order_by(TaskEvidence.id).limit(1)).first()
    if earlier is not None:
        problems.append(_duplicate(earlier, name))
    if problems:
        raise ValidationFailed(problems, summary=SUMMARY)
    ev = TaskEvidence(task_id=task.id, progress_id=progress_id, filename=name, content_type=mime, size=size,
                      sha256=sha, content=data, description=description, uploaded_by=by)
    try:
        with session.begin_nested():  # the unique (task, sha256): a twin upload of the same instant loses here
            session.add(ev)
            session.flush()
    except IntegrityError:
        twin = session.execute(select(*_META).where(TaskEvidence.task_id == task.id, TaskEvidence.sha256 == sha)
                               .order_by(TaskEvidence.id).limit(1)).first()
        raise ValidationFailed([_duplicate(twin, name)] if twin else [], summary=SUMMARY) from None
    audit(session, by, "targets.task.evidence.add", "task_evidence", ev.id, plan=plan.code, seq=seq,
          filename=name, size=size, sha256=sha, content_type=mime, progress_id=progress_id)
    session.flush()
    return _meta(ev, period)


def _duplicate(earlier: Any, name: str) -> Problem:
    return Problem(
        Message("与已上传的 %(file)s（编号 %(id)s，%(by)s 于 %(at)s 上传）内容完全相同，不重复保存",
                file=earlier.filename, id=earlier.id, by=earlier.uploaded_by,
                at=earlier.uploaded_at.strftime("%Y-%m-%d %H:%M")),
        "如是不同材料，检查是否选错了文件；如要更正名称或说明，先删除旧文件再上传", file=name or None)


def get_evidence(session: Session, evidence_id: int) -> dict[str, Any]:
    """One file with its content (and the plan code and task number it belongs to)."""
    ev = session.scalar(select(TaskEvidence).options(undefer(TaskEvidence.content))
                        .where(TaskEvidence.id == evidence_id))
    if ev is None:
        raise TargetsError(Message("没有编号为 %(id)s 的佐证材料", id=evidence_id))
    content = bytes(ev.content)  # PostgreSQL drivers may hand back a memoryview
    if hashlib.sha256(content).hexdigest() != ev.sha256:  # never hand out bytes that are not what was uploaded
        raise TargetsError(Message("佐证材料 %(id)s 的内容与登记的 SHA-256 不符，存储可能已损坏，请联系管理员从备份恢复",
                                   id=evidence_id))
    task = session.get(PlanTask, ev.task_id)
    period = session.scalar(select(TaskProgress.period).where(TaskProgress.id == ev.progress_id)) \
        if ev.progress_id else None
    return {**_meta(ev, period), "plan": task.plan.code if task else None, "seq": task.seq if task else None,
            "content": content}


def delete_evidence(session: Session, evidence_id: int, by: str, *, admin: bool = False) -> dict[str, Any]:
    """Remove a file: only its uploader or an admin, and only while the task is not closed (the files a
    task was closed on stay with the closure). The audit line keeps name, size and SHA-256."""
    ev = session.get(TaskEvidence, evidence_id)
    if ev is None:
        raise TargetsError(Message("没有编号为 %(id)s 的佐证材料", id=evidence_id))
    task = session.get(PlanTask, ev.task_id)
    assert task is not None  # the foreign key cascades
    if task.status == "closed":
        raise TargetsError(Message("任务 %(seq)s 已销号，其佐证材料随销号留存，不能删除；如需更正，先撤销销号",
                                   seq=task.seq))
    if not admin and by != ev.uploaded_by:
        raise TargetsError(Message("只有上传人 %(by)s 或管理员可以删除 %(file)s", by=ev.uploaded_by, file=ev.filename))
    meta = _meta(ev)
    audit(session, by, "targets.task.evidence.delete", "task_evidence", ev.id, plan=task.plan.code, seq=task.seq,
          filename=ev.filename, size=ev.size, sha256=ev.sha256, uploaded_by=ev.uploaded_by)
    session.delete(ev)
    session.flush()
    return meta
