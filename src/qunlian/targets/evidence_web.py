"""佐证材料 of the task ledger: upload a file to a task, download it, delete it.

All checks and all writes are qunlian.targets.evidence's; this module only decides who may
do what, reads the request and answers. Who may:

- upload: whoever may report progress on the task (`targets.access.may_manage_task`: admin, analyst, the lead unit's
  department users);
- download: whoever may see the task ledger page (`targets.read`: admin, analyst, department, town);
  chain and enterprise users get 403, as on /tasks;
- delete: the uploader or an admin, while the task is not closed.

Refusals go back to the ledger with the message (as the other task actions do), never a stack trace.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Path, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from qunlian.targets.lookup import TargetsError
from qunlian.targets.evidence import (
    TYPES,
    add_evidence,
    check_size,
    clean_filename,
    delete_evidence,
    get_evidence,
    max_evidence_bytes,
)
from qunlian.core.errors import Problem, QunlianError, ValidationFailed
from qunlian.core.messages import N_
from qunlian.platform import i18n
from qunlian.targets.models import PlanTask, TaskEvidence
from qunlian.platform.permissions import Principal, can
from qunlian.platform.web.exports import content_disposition
from qunlian.platform.web.deps import get_db, lang_of, templates
from qunlian.targets.access import may_manage_task
from qunlian.targets.web import back_to_ledger, plan_or_404, targets_user, task_or_404

router = APIRouter(include_in_schema=False)

# what the upload form tells the browser and the user (the server checks again, by content)
templates.env.globals["evidence_accept"] = ",".join(TYPES)
templates.env.globals["evidence_limit_mb"] = lambda: f"{max_evidence_bytes() / 1048576:g}"


def _message(exc: QunlianError, lang: str) -> str:
    """As the other task actions show a refusal, with the file each problem is about, in ``lang``."""
    _ = i18n.translator(lang)
    if isinstance(exc, ValidationFailed):
        return "；".join((f"{p.file}：" if p.file else "") + _(p.message) + (f"（{_(p.fix)}）" if p.fix else "")
                        for p in exc.problems)
    return exc.render(i18n.translations(lang).gettext)


def _read(upload: UploadFile | None) -> tuple[str, bytes]:
    """The upload's name and bytes; its size is checked before the bytes are read into memory."""
    if upload is None or not upload.filename:
        raise ValidationFailed([Problem(N_("没有选择文件"), "点“选择文件”选好佐证材料后再上传")],
                               summary=N_("未保存"))
    f = upload.file
    f.seek(0, os.SEEK_END)
    size = f.tell()
    f.seek(0)
    check_size(clean_filename(upload.filename), size)
    return upload.filename, f.read()


def _progress_id(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 9:
        raise ValidationFailed([Problem(N_("关联的进展记录编号无效"), "从列表中选择一条进展记录，或不关联",
                                        column="progress_id", value=value)], summary=N_("未保存"))
    return int(value)


@router.post("/tasks/{plan_code}/{seq}/evidence")
def evidence_upload(
    request: Request, plan_code: str, seq: int,
    file: UploadFile | None = File(None),
    description: str = Form("", max_length=2000), progress_id: str = Form("", max_length=20),
    back: str = Form("", max_length=500),
    db: Session = Depends(get_db), user: Principal = Depends(targets_user),
):  # fmt: skip
    plan = plan_or_404(db, plan_code)
    task = task_or_404(db, plan, seq)
    if not may_manage_task(user, task.lead_unit):
        raise HTTPException(403, detail="forbidden")
    try:
        filename, data = _read(file)
        add_evidence(db, plan.code, seq, filename, data, by=user.username, description=description,
                     progress_id=_progress_id(progress_id))
    except QunlianError as exc:
        db.rollback()
        return back_to_ledger(plan, seq, back, error=f"{seq}:{_message(exc, lang_of(request))}")
    db.commit()
    return back_to_ledger(plan, seq, back, done=str(seq))


def _content_disposition(evidence_id: int, filename: str) -> str:
    """attachment with an ASCII fallback name and the real (e.g. Chinese) name per RFC 5987/6266."""
    return content_disposition(filename, fallback=f"evidence-{evidence_id}")


@router.get("/tasks/evidence/{evidence_id}")
def evidence_download(
    evidence_id: int = Path(..., ge=1, le=2**31 - 1),
    db: Session = Depends(get_db), user: Principal = Depends(targets_user),
):  # fmt: skip
    try:
        ev: dict[str, Any] = get_evidence(db, evidence_id)
    except TargetsError:
        raise HTTPException(404) from None
    return Response(ev["content"], media_type=ev["content_type"], headers={
        "Content-Disposition": _content_disposition(ev["id"], ev["filename"]),
        "X-Content-Type-Options": "nosniff",
        # should a browser render it anyway, it gets no script, no origin and no network
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "private, no-store",
    })


@router.post("/tasks/evidence/{evidence_id}/delete")
def evidence_delete(
    request: Request, evidence_id: int = Path(..., ge=1, le=2**31 - 1),
    back: str = Form("", max_length=500),
    db: Session = Depends(get_db), user: Principal = Depends(targets_user),
) -> RedirectResponse:  # fmt: skip
    ev = db.get(TaskEvidence, evidence_id)
    if ev is None:
        raise HTTPException(404)
    if not can(user, "targets.delete_any_evidence") and user.username != ev.uploaded_by:
        raise HTTPException(403, detail="forbidden")
    task = db.get(PlanTask, ev.task_id)
    plan, seq = task.plan, task.seq  # type: ignore[union-attr]
    try:
        delete_evidence(db, evidence_id, by=user.username, admin=can(user, "targets.delete_any_evidence"))
    except QunlianError as exc:
        db.rollback()
        return back_to_ledger(plan, seq, back, error=f"{seq}:{_message(exc, lang_of(request))}")
    db.commit()
    return back_to_ledger(plan, seq, back, done=str(seq))
