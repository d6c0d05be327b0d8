"""数据导入: upload an enterprise-year file, preview it (dry run), confirm it, and the batch history.

The upload is streamed in chunks to a file under <data dir>/uploads/, hashed on the way and cut off
at the readers' size limit. The preview runs the importer with dry_run=True; confirm imports the very
file that was previewed, found by its SHA-256 (never re-uploaded). All checks and all writes are the
importer's (qunlian.enterprises.enterprise_years); every refusal is a list of problems, never a stack trace.
Admin and analyst only.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from sqlalchemy import select
from sqlalchemy.orm import Session

from qunlian.platform.config import load_settings
from qunlian.core.errors import Problem, QunlianError, ValidationFailed
from qunlian.core.messages import Message
from qunlian.enterprises import columns as C
from qunlian.enterprises.enterprise_years import import_enterprise_years
from qunlian.platform.tabular import SUPPORTED, max_upload_bytes
from qunlian.platform.db import audit
from qunlian.platform.models import ImportBatch
from qunlian.platform.permissions import Principal
from qunlian.platform.web.deps import get_db, render, require

router = APIRouter(include_in_schema=False)

CHUNK = 1024 * 1024
SHA = re.compile(r"^[0-9a-f]{64}$")


import_user = require("imports.run")


PREVIEW_KEPT_S = 24 * 3600  # a preview not confirmed within a day is dropped


def uploads_dir() -> Path:
    d = Path(load_settings().data_dir) / "uploads"
    d.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - PREVIEW_KEPT_S
    for old in d.iterdir():
        if old.is_file() and old.stat().st_mtime < cutoff:
            old.unlink(missing_ok=True)
    return d


def _history(db: Session) -> list[ImportBatch]:
    return list(db.scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(100)))


def _columns_table(result: Any) -> list[dict[str, Any]]:
    """Recognised columns: header as printed → canonical column, the file's unit and the stored unit."""
    out = []
    for header, name in result.columns.items():
        col = C.BY_NAME.get(name)
        out.append({"header": header, "name": name, "label": col.label if col else name,
                    "file_unit": result.units.get(name), "unit": col.unit if col else None})
    return out


def _parse_units(text: str) -> tuple[dict[str, str], list[Problem]]:
    units: dict[str, str] = {}
    problems = []
    for line in text.replace("；", "\n").replace(";", "\n").splitlines():
        if not line.strip():
            continue
        if "=" not in line:
            problems.append(Problem("单位声明应写成 列=单位", "例如 tax_wan=元 或 税收=元，每行一个", column="units",
                                    value=line.strip()))
            continue
        k, v = line.split("=", 1)
        units[k.strip()] = v.strip()
    return units, problems


def _page(request: Request, db: Session, **ctx: Any):
    status = ctx.pop("status_code", 200)
    base = {"history": _history(db), "limit_mb": max_upload_bytes() / 1048576, "supported": SUPPORTED,
            "result": None, "problems": [], "sha256": None, "filename": None, "source": "", "units_text": "",
            "columns": [], "imported": False, "summary": None}
    base.update(ctx)
    return render(request, "enterprises/imports.html", base, status_code=status)


@router.get("/imports")
def imports_page(request: Request, db: Session = Depends(get_db), user: Principal = Depends(import_user)):
    return _page(request, db)


async def _receive(upload: UploadFile, folder: Path, filename: str) -> tuple[Path | None, str, int, Problem | None]:
    """Copy the upload in chunks to a temporary file, hashing it and stopping past the size limit."""
    limit = max_upload_bytes()
    ext = Path(filename).suffix.lower()
    tmp = folder / f".part-{secrets.token_hex(8)}{ext}"
    digest = hashlib.sha256()
    size = 0
    try:
        with open(tmp, "wb") as out:
            while chunk := await upload.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    tmp.unlink(missing_ok=True)
                    return None, "", size, Problem(
                        Message("文件过大：超过上限 %(limit)s MB", limit=format(limit / 1048576, ".0f")),
                        "把数据拆成几个文件分批导入，或删去无关的工作表、图片和格式；"
                        "管理员可用环境变量 QUNLIAN_MAX_UPLOAD_MB 调整上限", file=filename)
                digest.update(chunk)
                out.write(chunk)
    finally:
        await upload.close()
    sha = digest.hexdigest()
    final = folder / f"{sha}{ext}"
    os.replace(tmp, final)
    return final, sha, size, None


@router.post("/imports/preview")
async def imports_preview(
    request: Request,
    file: UploadFile = File(...),
    source: str = Form("", max_length=200),
    units: str = Form("", max_length=2000),
    db: Session = Depends(get_db),
    user: Principal = Depends(import_user),
):
    filename = Path((file.filename or "").replace("\\", "/")).name[:200] or "upload"
    ctx: dict[str, Any] = {"filename": filename, "source": source, "units_text": units}
    if Path(filename).suffix.lower() not in SUPPORTED:
        await file.close()
        ext = Path(filename).suffix.lower() or Message("（无扩展名）")
        fix = ("用 Excel/WPS 另存为 .xlsx 格式（Excel 工作簿）" if ext in (".xls", ".xlsm", ".xlsb", ".et", ".ods")
               else "请上传 .xlsx（Excel 工作簿）或 .csv 文件")
        problem = Problem(Message("不支持的文件类型 %(ext)s", ext=ext), fix, file=filename)
        _audit_preview(db, user, filename, None, [problem])
        return _page(request, db, problems=[problem], status_code=400, **ctx)
    unit_map, unit_problems = _parse_units(units)
    folder = uploads_dir()
    path, sha, _size, too_big = await _receive(file, folder, filename)
    if too_big is not None or path is None:
        _audit_preview(db, user, filename, None, [too_big])
        return _page(request, db, problems=[too_big], status_code=413, **ctx)
    if unit_problems:
        path.unlink(missing_ok=True)
        return _page(request, db, problems=unit_problems, status_code=400, **ctx)
    try:
        result = import_enterprise_years(request.app.state.engine, path, units=unit_map or None, source=source,
                                         actor=user.username, dry_run=True, filename=filename)
    except ValidationFailed as exc:
        path.unlink(missing_ok=True)
        _audit_preview(db, user, filename, sha, exc.problems)
        return _page(request, db, problems=exc.problems, summary=exc.summary, status_code=400, **ctx)
    except QunlianError as exc:
        path.unlink(missing_ok=True)
        return _page(request, db, problems=[Problem(str(exc), file=filename)], status_code=400, **ctx)
    meta = {"filename": filename, "source": source, "units": unit_map, "by": user.username,
            "at": dt.datetime.now(dt.timezone.utc).isoformat(), "path": path.name}
    (folder / f"{sha}.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    _audit_preview(db, user, filename, sha, [])
    return _page(request, db, result=result, sha256=sha, columns=_columns_table(result), **ctx)


def _audit_preview(db: Session, user: Principal, filename: str, sha: str | None, problems: list[Problem]) -> None:
    audit(db, user.username, "import.preview", "import", sha or "", file=filename, problems=len(problems),
          accepted=not problems)
    db.commit()


@router.post("/imports/confirm")
def imports_confirm(
    request: Request,
    sha256: str = Form(..., max_length=64),
    db: Session = Depends(get_db),
    user: Principal = Depends(import_user),
):
    if not SHA.match(sha256):
        raise HTTPException(400)
    folder = uploads_dir()
    meta_path = folder / f"{sha256}.json"
    if not meta_path.is_file():
        problem = Problem("没有找到待导入的文件：可能已导入，或已过期", "请重新上传并预览")
        return _page(request, db, problems=[problem], status_code=404)
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    path = folder / Path(str(meta.get("path", ""))).name
    ctx = {"filename": meta.get("filename"), "source": meta.get("source", "")}
    if not path.is_file() or not path.name.startswith(sha256):
        return _page(request, db, problems=[Problem("待导入的文件已丢失", "请重新上传并预览")], status_code=404, **ctx)
    try:
        result = import_enterprise_years(request.app.state.engine, path, units=meta.get("units") or None,
                                         source=meta.get("source", ""), actor=user.username,
                                         filename=meta.get("filename"))
    except ValidationFailed as exc:  # the store changed since the preview
        return _page(request, db, problems=exc.problems, summary=exc.summary, status_code=400, **ctx)
    path.unlink(missing_ok=True)
    meta_path.unlink(missing_ok=True)
    return _page(request, db, result=result, imported=True, columns=_columns_table(result), **ctx)
