"""佐证材料 on the task ledger page: upload (multipart, CSRF), download (headers, bytes), who may do what.

The store is the seeds' plans (003 附件2: 62 tasks) with one user per role; task 5 is led by 市经信局
(dept1's unit), task 21 by 市科技局 (dept2's).
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote, unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from web_helpers import PASSWORD, csrf_of, login, make_client

from qunlian.accounts.passwords import hash_password
from qunlian.targets.ledger import close_task
from qunlian.core.uscc import make_uscc
from qunlian.targets.plans.loader import load_reference_data
from qunlian.platform.db import session_factory, transaction
from qunlian.accounts.models import User
from qunlian.chains.models import ChainNode
from qunlian.enterprises.models import Enterprise
from qunlian.platform.models import AuditLog
from qunlian.regions.models import Town
from qunlian.targets.models import TaskEvidence

CLUSTERS = "pinghu-clusters-2023-2027"
LEDGER = f"/tasks?plan={CLUSTERS}"
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 60 + b"This program cannot be run in DOS mode.\r\n"
NAME = "2024Q2 专精特新名单.pdf"


@pytest.fixture
def ledger(engine: Engine) -> Engine:
    with transaction(engine) as s:
        load_reference_data(s, actor="test")
        town = s.scalar(select(Town).where(Town.code == "danghu"))
        chain = s.scalar(select(ChainNode).where(ChainNode.level == "chain").limit(1))
        firm = Enterprise(uscc=make_uscc("330482", "MA2B001X"), name="平湖测试有限公司", town_id=town.id,
                          industry_code="3976", flags=[])
        s.add(firm)
        s.flush()
        pw = hash_password(PASSWORD)
        s.add_all([
            User(username="admin1", role="admin", password_hash=pw),
            User(username="analyst1", role="analyst", password_hash=pw),
            User(username="dept1", role="department", password_hash=pw, department="市经信局"),
            User(username="dept2", role="department", password_hash=pw, department="市科技局"),
            User(username="town1", role="town", password_hash=pw, town_id=town.id),
            User(username="chain1", role="chain", password_hash=pw, chain_node_id=chain.id),
            User(username="ent1", role="enterprise", password_hash=pw, enterprise_id=firm.id),
        ])
    return engine


def client_for(engine: Engine, username: str) -> TestClient:
    c = make_client(engine)
    assert login(c, username).status_code == 303
    return c


def upload(c: TestClient, seq: int, name: str, data: bytes, token: str | None, **fields: str):
    form = {"back": LEDGER, **fields}
    if token is not None:
        form["csrf_token"] = token
    return c.post(f"/tasks/{CLUSTERS}/{seq}/evidence", data=form, files={"file": (name, data, "application/pdf")},
                  follow_redirects=False)


def stored(engine: Engine) -> int:
    with session_factory(engine)() as s:
        return s.scalar(select(func.count()).select_from(TaskEvidence))


def only_id(engine: Engine) -> int:
    with session_factory(engine)() as s:
        return s.scalar(select(TaskEvidence.id))


# --------------------------------------------------------------------------- upload and download


def test_upload_then_download_identical_bytes_with_headers(ledger):
    dept = client_for(ledger, "dept1")
    page = dept.get(LEDGER).text
    assert 'data-testid="evidence-form-5"' in page and 'enctype="multipart/form-data"' in page
    assert 'data-testid="evidence-form-21"' not in page  # 市科技局's task
    r = upload(dept, 5, NAME, PDF, csrf_of(page), description="省经信厅公布名单")
    assert r.status_code == 303 and "done=5" in r.headers["location"] and r.headers["location"].endswith("#task-5")
    page = dept.get(r.headers["location"]).text
    ev = only_id(ledger)
    assert f'href="/tasks/evidence/{ev}"' in page and NAME in page and "省经信厅公布名单" in page
    assert re.search(r'data-testid="evidence-5"><summary>佐证材料（1 个文件）', page)
    assert f'data-testid="evidence-delete-{ev}"' in page  # the uploader may delete it

    for who in ("dept1", "dept2", "analyst1", "town1", "admin1"):
        d = dept if who == "dept1" else client_for(ledger, who)
        got = d.get(f"/tasks/evidence/{ev}")
        assert got.status_code == 200, who
        assert got.content == PDF and hashlib.sha256(got.content).hexdigest() == hashlib.sha256(PDF).hexdigest()
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    cd = got.headers["content-disposition"]
    assert cd.startswith("attachment;") and f"filename*=UTF-8''{quote(NAME, safe='')}" in cd
    assert unquote(cd.split("filename*=UTF-8''")[1]) == NAME
    assert 'filename="2024Q2 ______.pdf"' in cd  # the ASCII fallback for old clients
    assert "sandbox" in got.headers["content-security-policy"] and "no-store" in got.headers["cache-control"]

    with session_factory(ledger)() as s:
        log = s.scalar(select(AuditLog).where(AuditLog.action == "targets.task.evidence.add"))
    assert log.actor == "dept1" and log.detail["sha256"] == hashlib.sha256(PDF).hexdigest()


def test_attach_to_a_progress_note(ledger):
    dept = client_for(ledger, "dept1")
    token = csrf_of(dept.get(LEDGER).text)
    dept.post(f"/tasks/{CLUSTERS}/5/progress", data={"period": "2024Q2", "note": "完成摸排", "csrf_token": token})
    page = dept.get(LEDGER).text
    note_id = re.search(r'<select name="progress_id">.*?<option value="(\d+)">2024Q2', page, re.S).group(1)
    r = upload(dept, 5, "摸排表.pdf", PDF, token, progress_id=note_id)
    assert "done=5" in r.headers["location"]
    page = dept.get(LEDGER).text
    ev = only_id(ledger)
    assert f'data-evidence-link="{ev}">摸排表.pdf</a>' in page  # in the progress note's row
    r = upload(dept, 5, "另一个.pdf", PDF + b"x", token, progress_id="abc")
    assert "error=" in r.headers["location"] and stored(ledger) == 1


# --------------------------------------------------------------------------- refusals


def test_exe_renamed_pdf_is_refused_with_a_message(ledger):
    dept = client_for(ledger, "dept1")
    r = upload(dept, 5, "报告.pdf", EXE, csrf_of(dept.get(LEDGER).text))
    assert r.status_code == 303 and "error=" in r.headers["location"]
    page = dept.get(r.headers["location"]).text
    notice = re.search(r'data-testid="task-error">(.*?)</p>', page, re.S).group(1)
    assert "未保存" in notice and "报告.pdf" in notice and "可执行程序" in notice and "Traceback" not in page
    assert stored(ledger) == 0
    dept.cookies.set("lang", "en")  # the refusal in the reader's language
    r = upload(dept, 5, "报告.pdf", EXE, csrf_of(dept.get(LEDGER).text))
    notice = re.search(r'data-testid="task-error">(.*?)</p>', dept.get(r.headers["location"]).text, re.S).group(1)
    assert "报告.pdf" in notice and "an executable is not accepted" in notice and "可执行程序" not in notice
    assert stored(ledger) == 0


def test_empty_duplicate_oversized_and_no_file(ledger, monkeypatch):
    dept = client_for(ledger, "dept1")
    token = csrf_of(dept.get(LEDGER).text)
    assert "文件为空" in dept.get(upload(dept, 5, "空.pdf", b"", token).headers["location"]).text
    r = dept.post(f"/tasks/{CLUSTERS}/5/evidence", data={"csrf_token": token, "back": LEDGER},
                  files={"file": ("", b"", "application/octet-stream")}, follow_redirects=False)
    assert r.status_code == 303 and "没有选择文件" in dept.get(r.headers["location"]).text
    assert "done=5" in upload(dept, 5, "a.pdf", PDF, token).headers["location"]
    page = dept.get(upload(dept, 5, "b.pdf", PDF, token).headers["location"]).text
    assert "与已上传的 a.pdf" in page
    monkeypatch.setenv("QUNLIAN_EVIDENCE_MAX_MB", "0.001")
    page = dept.get(upload(dept, 5, "big.pdf", PDF + b"0" * 2000, token).headers["location"]).text
    assert "文件过大" in page and "big.pdf" in page
    # a body over the app-wide upload limit is refused from its declared length, before it is read
    monkeypatch.setenv("QUNLIAN_MAX_UPLOAD_MB", "0.01")
    r = upload(dept, 5, "huge.pdf", PDF + b"0" * (1024 * 1024 + 20_000), token)
    assert r.status_code == 413 and "Traceback" not in r.text
    assert stored(ledger) == 1


def test_closed_task_offers_no_upload_and_refuses_one(ledger):
    with transaction(ledger) as s:
        close_task(s, CLUSTERS, 7, closed_by="admin1", note="达标")
    dept = client_for(ledger, "dept1")
    page = dept.get(LEDGER).text
    assert 'data-testid="evidence-form-7"' not in page
    r = upload(dept, 7, "补充.pdf", PDF, csrf_of(page))
    assert "已销号" in dept.get(r.headers["location"]).text and stored(ledger) == 0


# --------------------------------------------------------------------------- who may


def test_csrf_absent_or_forged_is_refused(ledger):
    dept = client_for(ledger, "dept1")
    dept.get(LEDGER)
    assert upload(dept, 5, NAME, PDF, None).status_code == 403
    assert upload(dept, 5, NAME, PDF, "forged-token").status_code == 403
    other = client_for(ledger, "dept2")  # a real token, but another session's
    assert upload(dept, 5, NAME, PDF, csrf_of(other.get(LEDGER).text)).status_code == 403
    assert stored(ledger) == 0


def test_who_may_upload_and_download(ledger):
    dept = client_for(ledger, "dept1")
    upload(dept, 5, NAME, PDF, csrf_of(dept.get(LEDGER).text))
    ev = only_id(ledger)
    # town users see the ledger: they may download, never upload
    town = client_for(ledger, "town1")
    page = town.get(LEDGER).text
    assert f'href="/tasks/evidence/{ev}"' in page and 'data-testid="evidence-form-5"' not in page
    assert f'data-testid="evidence-delete-{ev}"' not in page
    assert upload(town, 5, "x.pdf", PDF + b"town", csrf_of(page)).status_code == 403
    # a department uploads only to the tasks its unit leads
    dept2 = client_for(ledger, "dept2")
    t2 = csrf_of(dept2.get(LEDGER).text)
    assert upload(dept2, 5, "x.pdf", PDF + b"dept2", t2).status_code == 403
    assert "done=21" in upload(dept2, 21, "科技.pdf", PDF + b"dept2", t2).headers["location"]
    # chain and enterprise users do not see the ledger: no download, no upload
    for who in ("chain1", "ent1"):
        c = client_for(ledger, who)
        assert c.get(f"/tasks/evidence/{ev}").status_code == 403
        assert c.get(LEDGER).status_code == 403
        token = csrf_of(c.get("/").text)
        assert upload(c, 5, "x.pdf", PDF + who.encode(), token).status_code == 403
    anon = make_client(ledger)
    r = anon.get(f"/tasks/evidence/{ev}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert dept.get("/tasks/evidence/999999").status_code == 404
    assert stored(ledger) == 2


def test_delete_by_uploader_or_admin(ledger):
    dept = client_for(ledger, "dept1")
    token = csrf_of(dept.get(LEDGER).text)
    upload(dept, 5, "a.pdf", PDF, token)
    upload(dept, 5, "b.pdf", PDF + b"b", token)
    with session_factory(ledger)() as s:
        a, b = s.scalars(select(TaskEvidence.id).order_by(TaskEvidence.id)).all()
    analyst = client_for(ledger, "analyst1")
    at = csrf_of(analyst.get(LEDGER).text)
    assert analyst.post(f"/tasks/evidence/{a}/delete", data={"csrf_token": at}).status_code == 403
    assert dept.post(f"/tasks/evidence/{a}/delete", data={"back": LEDGER}).status_code == 403  # no CSRF
    r = dept.post(f"/tasks/evidence/{a}/delete", data={"csrf_token": token, "back": LEDGER}, follow_redirects=False)
    assert r.status_code == 303 and "done=5" in r.headers["location"]
    admin = client_for(ledger, "admin1")
    r = admin.post(f"/tasks/evidence/{b}/delete", data={"csrf_token": csrf_of(admin.get(LEDGER).text)},
                   follow_redirects=False)
    assert r.status_code == 303 and stored(ledger) == 0
    with session_factory(ledger)() as s:
        actors = s.scalars(select(AuditLog.actor).where(AuditLog.action == "targets.task.evidence.delete")
                           .order_by(AuditLog.id)).all()
    assert actors == ["dept1", "admin1"]


def test_new_page_strings_have_english(ledger):
    dept = client_for(ledger, "dept1")
    upload(dept, 5, NAME, PDF, csrf_of(dept.get(LEDGER).text))
    dept.cookies.set("lang", "en")
    page = dept.get(LEDGER).text
    assert "Upload evidence" in page and "Evidence (1 file(s))" in page and "Uploaded by" in page
