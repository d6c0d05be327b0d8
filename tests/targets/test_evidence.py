"""佐证材料: evidence files of the task ledger, stored whole in the database, checked by content."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from qunlian.targets.lookup import TargetsError
from qunlian.targets.evidence import (
    add_evidence,
    clean_filename,
    delete_evidence,
    get_evidence,
    list_evidence,
    sniff,
)
from qunlian.targets.ledger import add_progress, close_task, list_tasks, reopen_task
from qunlian.core.errors import ValidationFailed
from qunlian.platform.models import AuditLog
from qunlian.targets.models import TaskEvidence

CLUSTERS = "pinghu-clusters-2023-2027"


# --------------------------------------------------------------------------- sample files


def pdf(tag: bytes = b"") -> bytes:
    return b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n" + tag + b"\ntrailer <<>>\n%%EOF\n"


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00" + bytes(range(40))
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + bytes(range(60)) + b"\xff\xd9"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 50 + b"This program cannot be run in DOS mode.\r\n" + b"%PDF-"


def package(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return buf.getvalue()


def ooxml(folder: str, macro: bool = False) -> bytes:
    parts = {"[Content_Types].xml": b"<Types/>", "_rels/.rels": b"<Relationships/>",
             f"{folder}/document.xml": b"<doc/>"}
    if macro:
        parts[f"{folder}/vbaProject.bin"] = b"\x00VBA"
    return package(parts)


def _stored(session) -> tuple[int, int]:
    return (session.scalar(select(func.count()).select_from(TaskEvidence)),
            session.scalar(select(func.count()).select_from(AuditLog)
                           .where(AuditLog.action.like("targets.task.evidence.%"))))


# --------------------------------------------------------------------------- round trip


def test_round_trip_bytes_sha_listing_and_audit(session):
    row = add_progress(session, CLUSTERS, 20, "2024Q2", "新增省级专精特新 12 家", entered_by="经信局张三")
    note_id = row["progress"][0]["id"]
    data = pdf(b"2024Q2 list")
    r = add_evidence(session, CLUSTERS, 20, "2024Q2 专精特新名单.pdf", data, by="经信局张三",
                     description="省经信厅公布名单", progress_id=note_id)
    assert r["filename"] == "2024Q2 专精特新名单.pdf" and r["content_type"] == "application/pdf"
    assert r["size"] == len(data) and r["sha256"] == hashlib.sha256(data).hexdigest()
    assert r["progress_period"] == "2024Q2" and r["uploaded_by"] == "经信局张三"

    got = get_evidence(session, r["id"])
    assert got["content"] == data and got["plan"] == CLUSTERS and got["seq"] == 20
    assert hashlib.sha256(got["content"]).hexdigest() == got["sha256"]

    listed = list_evidence(session, CLUSTERS, 20)
    assert [e["id"] for e in listed] == [r["id"]] and "content" not in listed[0]
    assert listed[0]["description"] == "省经信厅公布名单" and listed[0]["size_text"].endswith(" B")
    assert list_evidence(session, CLUSTERS, 21) == []

    rows = {t["seq"]: t for t in list_tasks(session, CLUSTERS, as_of="2024Q2")}
    assert rows[20]["evidence_count"] == 1 and rows[21]["evidence_count"] == 0
    assert rows[20]["progress"][0]["files"][0]["filename"] == "2024Q2 专精特新名单.pdf"
    assert rows[20]["evidence_files"][0]["sha256"] == r["sha256"]

    log = session.scalar(select(AuditLog).where(AuditLog.action == "targets.task.evidence.add"))
    assert log.actor == "经信局张三" and log.entity == "task_evidence" and log.entity_id == str(r["id"])
    assert log.detail["sha256"] == r["sha256"] and log.detail["seq"] == 20 and log.detail["plan"] == CLUSTERS


@pytest.mark.parametrize("name,data,content_type", [
    ("验收报告.pdf", pdf(), "application/pdf"),
    ("现场照片.png", PNG, "image/png"),
    ("现场照片.JPG", JPEG, "image/jpeg"),
    ("会议纪要.docx", ooxml("word"), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("企业名单.xlsx", ooxml("xl"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("汇报.pptx", ooxml("ppt"), "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ("旧文件.doc", OLE, "application/msword"),
    ("旧表格.xls", OLE, "application/vnd.ms-excel"),
    ("批复.ofd", package({"OFD.xml": b"<ofd:OFD/>", "Doc_0/Document.xml": b"<x/>"}), "application/ofd"),
    ("说明.txt", "进展说明：已完成\n".encode(), "text/plain; charset=utf-8"),
    ("名单.csv", "企业,镇街道\n平湖某公司,当湖街道\n".encode("gb18030"), "text/csv; charset=gb18030"),
])
def test_accepted_types_by_content(session, name, data, content_type):
    r = add_evidence(session, CLUSTERS, 3, name, data, by="analyst")
    assert r["content_type"] == content_type and get_evidence(session, r["id"])["content"] == data


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("name,data,expect", [
    ("空文件.pdf", b"", "文件为空"),
    ("setup.pdf", EXE, "可执行程序"),
    ("照片.pdf", PNG, "文件内容是 PNG 图片，与扩展名 .pdf"),
    ("带宏.docx", ooxml("word", macro=True), "含宏"),
    ("打包.docx", package({"a.txt": b"x"}), "压缩包"),
    ("伪装.txt", b"\x00\x01\x02binary\xff\xfe", "不是有效的纯文本"),
    ("坏文件.pdf", b"\x00\x13garbage\xff" * 10, "不是有效的 PDF 文档"),
    ("其实是文本.pdf", b"not a pdf at all", "文件内容是纯文本，与扩展名 .pdf"),
    ("tool.exe", EXE, "不支持的文件类型 .exe"),
    ("材料.zip", package({"a.pdf": pdf()}), "不支持的文件类型 .zip"),
    ("图.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "不支持的文件类型 .svg"),
    ("页面.html", b"<html><script>alert(1)</script></html>", "不支持的文件类型 .html"),
    ("无扩展名", pdf(), "无扩展名"),
])
def test_refused_files_name_the_file_and_store_nothing(session, name, data, expect):
    before = _stored(session)
    with pytest.raises(ValidationFailed) as exc:
        add_evidence(session, CLUSTERS, 5, name, data, by="analyst")
    assert expect in str(exc.value) and name in str(exc.value)
    assert "未保存" in exc.value.summary and all(p.fix for p in exc.value.problems)
    assert _stored(session) == before


def test_size_limit_is_a_setting(session, monkeypatch):
    monkeypatch.setenv("QUNLIAN_EVIDENCE_MAX_MB", "0.001")  # 1048 bytes
    text = ("进展" * 400).encode()
    with pytest.raises(ValidationFailed, match=r"文件过大：2\.3 KB，超过上限 1\.0 KB") as exc:
        add_evidence(session, CLUSTERS, 5, "长说明.txt", text, by="analyst")
    assert "QUNLIAN_EVIDENCE_MAX_MB" in exc.value.problems[0].fix
    assert add_evidence(session, CLUSTERS, 5, "短.txt", "进展".encode(), by="analyst")["size"] == 6
    monkeypatch.delenv("QUNLIAN_EVIDENCE_MAX_MB")
    assert add_evidence(session, CLUSTERS, 5, "长说明.txt", text, by="analyst")["size"] == len(text)
    with pytest.raises(ValidationFailed, match="文件过大"):
        add_evidence(session, CLUSTERS, 5, "x.txt", b"abc", by="analyst", max_bytes=2)
    assert _stored(session)[0] == 2


def test_every_problem_at_once(session):
    with pytest.raises(ValidationFailed) as exc:
        add_evidence(session, CLUSTERS, 5, "\u202e/", b"", by="", description="很长" * 200, progress_id=999999)
    text = str(exc.value)
    for expect in ("文件名为空", "上传人为空", "说明过长", "进展记录 999999 不属于任务 5", "文件为空"):
        assert expect in text
    assert _stored(session) == (0, 0)


def test_file_names_are_cleaned():
    assert clean_filename("C:\\Users\\张三\\Desktop\\名单.pdf") == "名单.pdf"
    assert clean_filename("../../etc/passwd.txt") == "passwd.txt"
    assert clean_filename("报告\u202efdp.exe") == "报告fdp.exe"  # the bidi override is gone, the truth shows
    assert clean_filename("a\x00b\r\n.pdf") == "ab.pdf"
    assert clean_filename(' .隐藏 "文件"  <1>.pdf. ') == "隐藏 _文件_ _1_.pdf"
    long = clean_filename("很" * 300 + ".pdf")
    assert len(long) == 120 and long.endswith("很.pdf")
    assert clean_filename("...") == "" and clean_filename("") == ""


def test_sniffing_does_not_trust_the_name():
    assert sniff(pdf()) == "pdf" and sniff(EXE) == "executable" and sniff(OLE) == "ole"
    assert sniff(ooxml("xl")) == "xlsx" and sniff(ooxml("xl", macro=True)) == "macro"
    assert sniff(b"#!/bin/sh\nrm -rf /\n") == "executable"
    assert sniff(b"\x00\x00binary") is None


# --------------------------------------------------------------------------- task state, duplicates, deletion


def test_closed_task_refuses_new_evidence_and_keeps_its_own(session):
    r = add_evidence(session, CLUSTERS, 7, "验收报告.pdf", pdf(b"7"), by="工业强市办")
    close_task(session, CLUSTERS, 7, closed_by="工业强市办", note="达标")
    before = _stored(session)
    with pytest.raises(TargetsError, match="任务 7 已于 .* 销号，不能再添加佐证材料"):
        add_evidence(session, CLUSTERS, 7, "补充.pdf", pdf(b"more"), by="工业强市办")
    with pytest.raises(TargetsError, match="已销号.*不能删除"):
        delete_evidence(session, r["id"], by="工业强市办", admin=True)
    assert _stored(session) == before
    reopen_task(session, CLUSTERS, 7, by="工业强市办", reason="补充材料")
    assert add_evidence(session, CLUSTERS, 7, "补充.pdf", pdf(b"more"), by="工业强市办")["filename"] == "补充.pdf"


def test_duplicate_on_the_same_task_names_the_earlier_upload(session):
    data = pdf(b"dup")
    first = add_evidence(session, CLUSTERS, 9, "名单.pdf", data, by="张三")
    with pytest.raises(ValidationFailed) as exc:
        add_evidence(session, CLUSTERS, 9, "名单（改名）.pdf", data, by="李四")
    text = str(exc.value)
    assert f"与已上传的 名单.pdf（编号 {first['id']}，张三 于" in text and "内容完全相同" in text
    assert len(list_evidence(session, CLUSTERS, 9)) == 1
    assert add_evidence(session, CLUSTERS, 10, "名单.pdf", data, by="李四")["task_id"] != first["task_id"]


def test_unknown_plan_task_evidence_and_foreign_progress_note(session):
    with pytest.raises(TargetsError, match="未知规划 'nope'"):
        add_evidence(session, "nope", 1, "a.pdf", pdf(), by="x")
    with pytest.raises(TargetsError, match="没有第 99 项任务"):
        add_evidence(session, CLUSTERS, 99, "a.pdf", pdf(), by="x")
    with pytest.raises(TargetsError, match="没有第 99 项任务"):
        list_evidence(session, CLUSTERS, 99)
    with pytest.raises(TargetsError, match="没有编号为 424242 的佐证材料"):
        get_evidence(session, 424242)
    other = add_progress(session, CLUSTERS, 12, "2024Q1", "x", entered_by="x")["progress"][0]["id"]
    with pytest.raises(ValidationFailed, match=f"进展记录 {other} 不属于任务 11"):
        add_evidence(session, CLUSTERS, 11, "a.pdf", pdf(), by="x", progress_id=other)
    assert _stored(session)[0] == 0


def test_delete_by_uploader_or_admin_only(session):
    a = add_evidence(session, CLUSTERS, 14, "a.pdf", pdf(b"a"), by="张三")
    b = add_evidence(session, CLUSTERS, 14, "b.pdf", pdf(b"b"), by="张三")
    with pytest.raises(TargetsError, match="只有上传人 张三 或管理员"):
        delete_evidence(session, a["id"], by="李四")
    assert delete_evidence(session, a["id"], by="张三")["filename"] == "a.pdf"
    assert delete_evidence(session, b["id"], by="admin1", admin=True)["filename"] == "b.pdf"
    assert list_evidence(session, CLUSTERS, 14) == []
    logs = session.scalars(select(AuditLog).where(AuditLog.action == "targets.task.evidence.delete")
                           .order_by(AuditLog.id)).all()
    assert [(x.actor, x.detail["filename"], x.detail["uploaded_by"]) for x in logs] == [
        ("张三", "a.pdf", "张三"), ("admin1", "b.pdf", "张三")]
    assert logs[0].detail["sha256"] == a["sha256"]


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def run(cli_env, loaded):
    from qunlian.targets.cli import register

    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        pass

    register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, ["targets", *args])


def test_cli_add_list_get_delete(run, tmp_path):
    src = tmp_path / "验收报告.pdf"
    src.write_bytes(pdf(b"cli"))
    r = run("task", "evidence", "add", "--plan", CLUSTERS, "--seq", "20", str(src), "--description", "验收",
            "--by", "工业强市办")
    assert r.exit_code == 0, r.output
    assert "已保存" in r.stdout and hashlib.sha256(src.read_bytes()).hexdigest() in r.stdout
    r = run("task", "evidence", "list", "--plan", CLUSTERS, "--seq", "20", "--format", "json")
    rows = json.loads(r.stdout)
    assert [x["filename"] for x in rows] == ["验收报告.pdf"] and rows[0]["uploaded_by"] == "工业强市办"
    out = tmp_path / "out.pdf"
    r = run("task", "evidence", "get", "--id", str(rows[0]["id"]), "--output", str(out))
    assert r.exit_code == 0, r.output
    assert out.read_bytes() == src.read_bytes()
    r = run("task", "evidence", "get", "--id", str(rows[0]["id"]), "--output", str(out))
    assert r.exit_code == 2 and "已存在" in r.output
    folder = tmp_path / "dl"
    folder.mkdir()
    assert run("task", "evidence", "get", "--id", str(rows[0]["id"]), "--output", str(folder)).exit_code == 0
    assert (folder / "验收报告.pdf").read_bytes() == src.read_bytes()
    r = run("task", "list", "--plan", CLUSTERS, "--format", "json")
    assert next(t for t in json.loads(r.stdout) if t["seq"] == 20)["evidence_count"] == 1
    assert run("task", "evidence", "delete", "--id", str(rows[0]["id"]), "--by", "admin").exit_code == 0
    assert json.loads(run("task", "evidence", "list", "--plan", CLUSTERS, "--seq", "20", "--format", "json")
                      .stdout) == []


def test_cli_refusals_are_messages_and_store_nothing(run, tmp_path, monkeypatch):
    fake = tmp_path / "报告.pdf"
    fake.write_bytes(EXE)
    r = run("task", "evidence", "add", "--plan", CLUSTERS, "--seq", "20", str(fake))
    assert r.exit_code == 2 and "报告.pdf" in r.output and "可执行程序" in r.output and "Traceback" not in r.output
    monkeypatch.setenv("QUNLIAN_EVIDENCE_MAX_MB", "0.0001")
    big = tmp_path / "大.pdf"
    big.write_bytes(pdf(b"x" * 500))
    r = run("task", "evidence", "add", "--plan", CLUSTERS, "--seq", "20", str(big))
    assert r.exit_code == 2 and "文件过大" in r.output
    monkeypatch.delenv("QUNLIAN_EVIDENCE_MAX_MB")
    r = run("task", "evidence", "add", "--plan", CLUSTERS, "--seq", "99", str(big))
    assert r.exit_code == 2 and "没有第 99 项任务" in r.output
    r = run("task", "evidence", "get", "--id", "777", "--output", str(tmp_path / "x"))
    assert r.exit_code == 2 and "没有编号为 777" in r.output and not (tmp_path / "x").exists()
    assert json.loads(run("task", "evidence", "list", "--plan", CLUSTERS, "--seq", "20", "--format", "json")
                      .stdout) == []


def test_cli_speaks_english_with_qunlian_lang(run, tmp_path, monkeypatch):
    monkeypatch.setenv("QUNLIAN_LANG", "en")
    src = tmp_path / "report.pdf"
    src.write_bytes(pdf(b"cli en"))
    r = run("task", "evidence", "add", "--plan", CLUSTERS, "--seq", "20", str(src), "--by", "工业强市办")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("stored: report.pdf (id ") and "已保存" not in r.stdout
    evidence_id = json.loads(run("task", "evidence", "list", "--plan", CLUSTERS, "--seq", "20", "--format", "json")
                             .stdout)[0]["id"]
    out = tmp_path / "out.pdf"
    assert run("task", "evidence", "get", "--id", str(evidence_id), "--output", str(out)).exit_code == 0
    r = run("task", "evidence", "get", "--id", str(evidence_id), "--output", str(out))
    assert r.exit_code == 2 and f"{out} exists: use --force to overwrite" in r.output
    r = run("task", "evidence", "add", "--plan", CLUSTERS, "--seq", "99", str(src))
    assert r.exit_code == 2 and f"no task 99 in plan {CLUSTERS}" in r.output and "没有第" not in r.output
    r = run("task", "evidence", "delete", "--id", str(evidence_id), "--by", "admin")
    assert r.exit_code == 0 and r.stdout.strip() == f"deleted: report.pdf (id {evidence_id})"


def test_two_identical_uploads_at_the_same_instant_store_one(loaded):
    """The duplicate check is a unique constraint (task, sha256), not only a check in code: two
    sessions that both pass the check still store one file, and the other gets the clear message."""
    import threading

    from qunlian.platform.db import transaction

    data = pdf(b"twin")
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def upload(who: str) -> None:
        try:
            with transaction(loaded) as s:
                start.wait()
                add_evidence(s, CLUSTERS, 11, f"{who}.pdf", data, by=who)
            outcomes.append("stored")
        except ValidationFailed as exc:
            outcomes.append("duplicate" if "内容完全相同" in str(exc) else str(exc))
        except Exception as exc:  # a lock error would be a bug: shown in the assertion
            outcomes.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=upload, args=(w,)) for w in ("甲", "乙")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["duplicate", "stored"]
    with transaction(loaded) as s:
        assert len(list_evidence(s, CLUSTERS, 11)) == 1
