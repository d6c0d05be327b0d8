"""数据导入: the templates of every source, upload → preview of every changed value → confirm, the
validation report of a refused file, and the batch history.

The upload is copied in chunks to a file under <data dir>/uploads/, hashed on the way and cut off at
the readers' size limit. The preview runs the source's importer (declared in ``Capability.sources``)
with dry_run=True; confirm imports the very file that was previewed, found by its SHA-256 (never
re-uploaded), with the preview's token, which the batch stores under a unique constraint: a preview
confirmed twice (two people at once, a double click) is one batch. All checks and all writes are the
importer's; every refusal is a list of problems and a validation report, never a stack trace.
The handlers are plain ``def``s: the importer's work runs in the server's thread pool, never on the
event loop. Admin and analyst only.
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
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from qunlian.core.errors import Problem, QunlianError, ValidationFailed
from qunlian.core.messages import N_, Message
from qunlian.enterprises.service import columns as C
from qunlian.platform.config import load_settings
from qunlian.platform.db import audit
from qunlian.platform.models import ImportBatch
from qunlian.platform.permissions import Principal
from qunlian.platform.registry import resolve
from qunlian.platform.sources import DataSource, installed_sources
from qunlian.platform.tabular import SUPPORTED, max_upload_bytes
from qunlian.platform.tabular_out import XLSX_MEDIA_TYPE
from qunlian.platform.web.exports import content_disposition
from qunlian.platform.web.deps import get_db, lang_of, render, require

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


def attachment(filename: str) -> dict[str, str]:
    """Download headers for a template or a report (the platform's one way of naming a download)."""
    return {"Content-Disposition": content_disposition(filename), "X-Content-Type-Options": "nosniff"}


def sources() -> list[DataSource]:
    return installed_sources()


def _importer(kind: str = "enterprise-years") -> Any:
    """The importer of a kind of data, as its sources declare it."""
    ref = next((s.importer for s in sources() if s.kind == kind), None)
    if ref is None:
        raise HTTPException(404)
    return resolve(ref)


def _service(kind: str = "enterprise-years") -> Any:
    """The module of a kind's importer (its write_report and AlreadyConfirmed)."""
    ref = next(s.importer for s in sources() if s.kind == kind)
    return resolve(ref.partition(":")[0])


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
            "columns": [], "imported": False, "summary": None, "sources": sources(), "token": None,
            "report": None, "changes": [], "changes_shown": CHANGES_SHOWN, "headings": _headings(),
            "kind_names": KIND_NAMES}
    base.update(ctx)
    return render(request, "exchange/imports.html", base, status_code=status)


KIND_NAMES = {"enterprise-years": N_("企业年度数据")}  # ImportBatch.kind in words; later kinds add theirs
CHANGES_SHOWN = 500  # the page lists this many changed values; the CLI's --changes lists all


def _headings() -> dict[str, str]:
    return {c.name: C.heading(c.name) for c in C.COLUMNS}


@router.get("/imports/templates/{key}.xlsx")
def template_download(key: str, request: Request, db: Session = Depends(get_db), user: Principal = Depends(import_user)):
    """A source's template, its dropdowns filled with the user's region's towns and parks."""
    import io

    from qunlian.exchange.templates import load_choices, template_name, write_template
    from qunlian.regions.models import Region

    src = next((s for s in sources() if s.key == key), None)
    if src is None:
        raise HTTPException(404)
    region = db.get(Region, user.region_id).code if user.region_id is not None else None
    buf = io.BytesIO()
    write_template(src, load_choices(db, region), buf, locale=lang_of(request))
    return Response(buf.getvalue(), media_type=XLSX_MEDIA_TYPE,
                    headers=attachment(template_name(src)))


@router.get("/imports/report/{sha256}.xlsx")
def report_download(sha256: str, db: Session = Depends(get_db), user: Principal = Depends(import_user)):
    """The validation report of a refused upload (kept a day, like previews)."""
    if not SHA.match(sha256):
        raise HTTPException(404)
    path = uploads_dir() / f"{sha256}-report.xlsx"
    if not path.is_file():
        raise HTTPException(404)
    meta = path.with_suffix(".json")
    name = json.loads(meta.read_text(encoding="utf-8")).get("filename", "upload") if meta.is_file() else "upload"
    return Response(path.read_bytes(), media_type=XLSX_MEDIA_TYPE,
                    headers=attachment(f"校验报告-{Path(name).stem}.xlsx"))


@router.get("/imports")
def imports_page(request: Request, db: Session = Depends(get_db), user: Principal = Depends(import_user)):
    return _page(request, db)


def _receive(upload: UploadFile, folder: Path, filename: str) -> tuple[Path | None, str, int, Problem | None]:
    """Copy the upload in chunks to a temporary file, hashing it and stopping past the size limit."""
    limit = max_upload_bytes()
    ext = Path(filename).suffix.lower()
    tmp = folder / f".part-{secrets.token_hex(8)}{ext}"
    digest = hashlib.sha256()
    size = 0
    try:
        with open(tmp, "wb") as out:
            while chunk := upload.file.read(CHUNK):
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
        upload.file.close()
    sha = digest.hexdigest()
    final = folder / f"{sha}{ext}"
    os.replace(tmp, final)
    return final, sha, size, None


@router.post("/imports/preview")
def imports_preview(
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
        file.file.close()
        ext = Path(filename).suffix.lower() or Message("（无扩展名）")
        fix = ("用 Excel/WPS 另存为 .xlsx 格式（Excel 工作簿）" if ext in (".xls", ".xlsm", ".xlsb", ".et", ".ods")
               else "请上传 .xlsx（Excel 工作簿）或 .csv 文件")
        problem = Problem(Message("不支持的文件类型 %(ext)s", ext=ext), fix, file=filename)
        _audit_preview(db, user, filename, None, [problem])
        return _page(request, db, problems=[problem], status_code=400, **ctx)
    unit_map, unit_problems = _parse_units(units)
    folder = uploads_dir()
    path, sha, _size, too_big = _receive(file, folder, filename)
    if too_big is not None or path is None:
        _audit_preview(db, user, filename, None, [too_big])
        return _page(request, db, problems=[too_big], status_code=413, **ctx)
    if unit_problems:
        path.unlink(missing_ok=True)
        return _page(request, db, problems=unit_problems, status_code=400, **ctx)
    try:
        result = _importer()(request.app.state.engine, path, units=unit_map or None, source=source,
                             actor=user.username, dry_run=True, filename=filename)
    except ValidationFailed as exc:
        report = _write_report(folder, path, sha, filename, exc.problems)
        path.unlink(missing_ok=True)
        _audit_preview(db, user, filename, sha, exc.problems)
        return _page(request, db, problems=exc.problems, summary=exc.summary, status_code=400, report=report, **ctx)
    except QunlianError as exc:
        path.unlink(missing_ok=True)
        return _page(request, db, problems=[Problem(str(exc), file=filename)], status_code=400, **ctx)
    token = secrets.token_hex(16)
    meta = {"filename": filename, "source": source, "units": unit_map, "by": user.username,
            "at": dt.datetime.now(dt.UTC).isoformat(), "path": path.name, "token": token}
    (folder / f"{sha}.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    _audit_preview(db, user, filename, sha, [])
    return _page(request, db, result=result, sha256=sha, token=token, columns=_columns_table(result),
                 changes=result.changes[:CHANGES_SHOWN], **ctx)


def _write_report(folder: Path, path: Path, sha: str, filename: str, problems: list[Problem]) -> str | None:
    """The validation report of a refused upload, kept beside the previews; its sha for the link."""
    try:
        _service().write_report(path, problems, folder / f"{sha}-report.xlsx", filename=filename)
    except OSError:
        return None
    (folder / f"{sha}-report.json").write_text(json.dumps({"filename": filename}, ensure_ascii=False), encoding="utf-8")
    return sha


def _audit_preview(db: Session, user: Principal, filename: str, sha: str | None, problems: list[Problem]) -> None:
    audit(db, user.username, "import.preview", "import", sha or "", file=filename, problems=len(problems),
          accepted=not problems)
    db.commit()


@router.post("/imports/confirm")
def imports_confirm(
    request: Request,
    sha256: str = Form(..., max_length=64),
    token: str = Form("", max_length=64),
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
    expected = str(meta.get("token", ""))
    if token and token != expected:  # a form of an earlier preview of the same file
        problem = Problem("这个确认不属于当前的预览（文件已被重新预览）", "请在最新的预览上确认导入")
        return _page(request, db, problems=[problem], status_code=409, **ctx)
    try:
        result = _importer()(request.app.state.engine, path, units=meta.get("units") or None,
                             source=meta.get("source", ""), actor=user.username, filename=meta.get("filename"),
                             preview_token=expected or None)
    except ValidationFailed as exc:  # the store changed since the preview
        return _page(request, db, problems=exc.problems, summary=exc.summary, status_code=400, **ctx)
    except _service().AlreadyConfirmed:
        batch = db.scalar(select(ImportBatch).where(ImportBatch.preview_token == expected))
        problem = Problem(Message("这次预览已经确认导入过了（批次 #%(id)s），没有重复写入", id=batch.id if batch else "?"),
                          "在下方“导入批次”中查看；要再次导入请重新上传")
        return _page(request, db, problems=[problem], status_code=409, **ctx)
    path.unlink(missing_ok=True)
    meta_path.unlink(missing_ok=True)
    return _page(request, db, result=result, imported=True, columns=_columns_table(result), **ctx)
