"""数据导入 in process: upload → preview (dry run) → confirm, refusals, roles, CSRF, history."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
import openpyxl
from openpyxl import Workbook
from sqlalchemy import func, select
from web_helpers import csrf_of, login, make_client

from qunlian.core.uscc import make_uscc
from qunlian.platform.db import session_factory
from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.platform.models import AuditLog, ImportBatch

NEW1, NEW2 = make_uscc("330482", "MA2C101X"), make_uscc("330482", "MA2C102X")
GOOD_CSV = (
    "统一社会信用代码,企业名称,年度,镇街道,税收（万元）,用地面积（亩）,备注\n"
    f"{NEW1},平湖新导入科技有限公司,2023,当湖街道,120.5,10,\n"
    f"{NEW2},平湖另一家制造有限公司,2023,乍浦镇,80,8,示例\n"
).encode("utf-8")
BROKEN_CSV = (
    "统一社会信用代码,企业名称,年度,镇街道,税收,用地面积（亩）\n"
    f"{NEW1},<b>坏</b>公司,2023,不存在镇,很多,10\n"
    "123,某公司,20x3,当湖街道,1,-5\n"
).encode("utf-8")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "data"
    monkeypatch.setenv("QUNLIAN_DATA_DIR", str(d))
    return d


def _admin(web_store):
    c = make_client(web_store.engine)
    login(c, "admin1")
    return c, csrf_of(c.get("/imports").text)


def _upload(c, token, name, content, source="税务局", **extra):
    data = {"source": source, **({"csrf_token": token} if token else {}), **extra}
    return c.post("/imports/preview", data=data, files={"file": (name, content, "application/octet-stream")})


def _counts(engine):
    with session_factory(engine)() as s:
        return (s.scalar(select(func.count()).select_from(Enterprise)),
                s.scalar(select(func.count()).select_from(EnterpriseYear)),
                s.scalar(select(func.count()).select_from(ImportBatch)))


@pytest.mark.parametrize("role,expect", [("admin", 200), ("analyst", 200), ("department", 403), ("town", 403),
                                         ("chain", 403), ("enterprise", 403)])
def test_imports_page_per_role(web_store, role, expect, data_dir):
    c = make_client(web_store.engine)
    login(c, web_store.users[role])
    assert c.get("/imports").status_code == expect
    if expect == 403:
        token = csrf_of(c.get("/").text)
        assert _upload(c, token, "a.csv", GOOD_CSV).status_code == 403
        assert c.post("/imports/confirm", data={"sha256": "0" * 64, "csrf_token": token}).status_code == 403


def test_preview_then_confirm_imports_the_previewed_file(web_store, data_dir):
    c, token = _admin(web_store)
    before = _counts(web_store.engine)
    assert _upload(c, None, "good.csv", GOOD_CSV).status_code == 403  # no CSRF token
    r = _upload(c, token, "good.csv", GOOD_CSV)
    assert r.status_code == 200 and 'data-testid="import-preview"' in r.text
    assert 'data-testid="preview-rows">2<' in r.text
    assert 'data-col="tax_wan"' in r.text and "万元" in r.text and 'data-col="land_mu"' in r.text
    assert "备注" in re.search(r'data-testid="ignored-columns">(.*?)</p>', r.text, re.S).group(1)
    sha = re.search(r'name="sha256" value="([0-9a-f]{64})"', r.text).group(1)
    import hashlib

    assert sha == hashlib.sha256(GOOD_CSV).hexdigest()
    assert _counts(web_store.engine) == before  # a preview writes nothing
    assert (data_dir / "uploads" / f"{sha}.csv").read_bytes() == GOOD_CSV
    assert c.post("/imports/confirm", data={"sha256": sha}).status_code == 403  # no CSRF token
    r = c.post("/imports/confirm", data={"sha256": sha, "csrf_token": token})
    assert r.status_code == 200 and 'data-testid="import-done"' in r.text
    ents, years, batches = _counts(web_store.engine)
    assert (ents, years, batches) == (before[0] + 2, before[1] + 2, before[2] + 1)
    with session_factory(web_store.engine)() as s:
        b = s.scalar(select(ImportBatch).order_by(ImportBatch.id.desc()))
        assert (b.filename, b.sha256, b.source, b.rows, b.created_by) == ("good.csv", sha, "税务局", 2, "admin1")
        y = s.scalar(select(EnterpriseYear).join(Enterprise).where(Enterprise.uscc == NEW1))
        assert y.tax_wan == 120.5 and y.land_mu == 10
        assert s.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.action == "import.enterprise-years")) == 1
    history = c.get("/imports").text
    assert f'data-batch="{b.id}"' in history and "good.csv" in history and sha[:12] in history
    # confirming again: the kept file is gone, nothing is imported twice
    r = c.post("/imports/confirm", data={"sha256": sha, "csrf_token": token})
    assert r.status_code == 404 and _counts(web_store.engine)[2] == batches
    assert c.post("/imports/confirm", data={"sha256": "../etc/passwd", "csrf_token": token}).status_code == 400


def test_broken_file_lists_every_problem_and_stores_nothing(web_store, data_dir):
    c, token = _admin(web_store)
    before = _counts(web_store.engine)
    r = _upload(c, token, "坏文件.csv", BROKEN_CSV)
    assert r.status_code == 400 and 'data-testid="import-problems"' in r.text
    assert "<b>坏</b>" not in r.text  # HTML in a cell is shown as text
    # the 税收 column names no unit (元, 万元 or 亿元): refused at its header, with the fix
    assert re.search(r'<tr data-row="\d*" data-column="税收">[\s\S]*?税收列没有声明单位', r.text)
    rows = set(re.findall(r'<tr data-row="(\d*)" data-column="([^"]*)">', r.text))
    assert ("3", "统一社会信用代码") in rows and ("3", "年度") in rows
    assert 'name="sha256"' not in r.text  # no confirm offered
    assert _counts(web_store.engine) == before
    assert not list((data_dir / "uploads").glob("*.csv"))  # a refused file is not kept
    with session_factory(web_store.engine)() as s:
        a = s.scalar(select(AuditLog).where(AuditLog.action == "import.preview").order_by(AuditLog.id.desc()))
        assert a.detail["accepted"] is False and a.detail["problems"] >= 3


def test_oversized_upload_is_refused(web_store, data_dir, monkeypatch):
    monkeypatch.setenv("QUNLIAN_MAX_UPLOAD_MB", "0.01")  # 10 KiB
    c, token = _admin(web_store)
    big = GOOD_CSV + b"x" * 20_000
    r = _upload(c, token, "big.csv", big)
    assert r.status_code == 413 and "文件过大" in r.text and "Traceback" not in r.text
    assert not [p for p in (data_dir / "uploads").iterdir() if p.is_file()]


def test_declared_length_over_the_limit_is_refused_before_the_body_is_read(web_store, data_dir, monkeypatch):
    """Far past the limit, the request is refused from its Content-Length; the route never runs."""
    monkeypatch.setenv("QUNLIAN_MAX_UPLOAD_MB", "0.01")  # 10 KiB, plus 1 MiB allowed for the envelope
    c, token = _admin(web_store)
    before = _counts(web_store.engine)
    r = _upload(c, token, "huge.csv", GOOD_CSV + b"x" * (2 * 1024 * 1024))
    assert r.status_code == 413 and "上限" in r.text and "Traceback" not in r.text
    assert not (data_dir / "uploads").exists() or not any((data_dir / "uploads").iterdir())
    assert _counts(web_store.engine) == before


def test_abandoned_previews_expire_after_a_day(web_store, data_dir):
    import os
    import time

    from qunlian.exchange.web import PREVIEW_KEPT_S, uploads_dir

    folder = uploads_dir()
    stale, fresh = folder / "stale.csv", folder / "fresh.csv"
    stale.write_bytes(b"x")
    fresh.write_bytes(b"x")
    old = time.time() - PREVIEW_KEPT_S - 60
    os.utime(stale, (old, old))
    uploads_dir()
    assert not stale.exists() and fresh.exists()


def test_zip_bomb_named_xlsx_is_refused(web_store, data_dir):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (8 * 1024 * 1024))  # ~1000:1
    c, token = _admin(web_store)
    r = _upload(c, token, "bomb.xlsx", buf.getvalue())
    assert r.status_code == 400 and "压缩炸弹" in r.text
    assert _counts(web_store.engine)[2] == 0


@pytest.mark.parametrize("name,content,message", [
    ("report.pdf", b"%PDF-1.4 hello", "不支持的文件类型"),
    ("fake.xlsx", b"just some text, not a workbook", "不是有效的 Excel 工作簿"),
    ("empty.csv", b"", "空"),
])
def test_not_a_spreadsheet_is_refused(web_store, data_dir, name, content, message):
    c, token = _admin(web_store)
    r = _upload(c, token, name, content)
    assert r.status_code == 400 and message in r.text and "Traceback" not in r.text


def test_xlsx_preview_with_units_declared_in_the_form(web_store, data_dir):
    wb = Workbook()
    ws = wb.active
    ws.title = "规上企业"
    ws.append(["统一社会信用代码", "企业名称", "年度", "税收"])
    ws.append([NEW1, "表格导入有限公司", 2024, 1_200_000])
    buf = io.BytesIO()
    wb.save(buf)
    c, token = _admin(web_store)
    r = _upload(c, token, "税收.xlsx", buf.getvalue(), units="税收=元")
    assert r.status_code == 200, r.text
    assert re.search(r'data-col="tax_wan"><td>税收</td>.*?<td>元</td><td>万元</td>', r.text, re.S)
    sha = re.search(r'name="sha256" value="([0-9a-f]{64})"', r.text).group(1)
    r = c.post("/imports/confirm", data={"sha256": sha, "csrf_token": token})
    assert r.status_code == 200
    with session_factory(web_store.engine)() as s:
        y = s.scalar(select(EnterpriseYear).join(Enterprise).where(Enterprise.uscc == NEW1, EnterpriseYear.year == 2024))
        assert y.tax_wan == pytest.approx(120.0)
    r = _upload(c, token, "税收.xlsx", buf.getvalue(), units="税收 元")
    assert r.status_code == 400 and "列=单位" in r.text


def test_imports_page_in_english(web_store, data_dir):
    c, token = _admin(web_store)
    c.cookies.set("lang", "en")
    html = c.get("/imports").text
    assert "Upload a file" in html and "Import batches" in html


def test_templates_are_listed_and_download_for_importers_only(web_store, data_dir):
    c, _token = _admin(web_store)
    page = c.get("/imports").text
    from qunlian.platform.sources import installed_sources

    for src in installed_sources():
        assert f'href="/imports/templates/{src.key}.xlsx"' in page
        r = c.get(f"/imports/templates/{src.key}.xlsx")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert "filename*=UTF-8''" in r.headers["content-disposition"]
        wb = openpyxl.load_workbook(io.BytesIO(r.content))
        assert f"模板 {src.key} v{src.version}" in wb.worksheets[0]["A1"].value
    assert c.get("/imports/templates/nope.xlsx").status_code == 404
    town = make_client(web_store.engine)
    login(town, web_store.users["town"])
    assert town.get("/imports/templates/tax.xlsx").status_code == 403


def test_preview_shows_each_changed_value_and_confirm_then_history(web_store, data_dir):
    c, token = _admin(web_store)
    firm = web_store.uscc["e1"]
    body = f"统一社会信用代码,年度,税收（万元）\n{firm},2023,777\n".encode()
    r = _upload(c, token, "更正.csv", body)
    assert r.status_code == 200
    row = re.search(rf'<tr data-uscc="{firm}" data-field="tax_wan">(.*?)</tr>', r.text, re.S).group(1)
    assert "750.0000" in row and "777.0000" in row and "2023" in row
    assert 'data-testid="preview-template"' in r.text  # recognised as the tax bureau's data
    sha = re.search(r'name="sha256" value="([0-9a-f]{64})"', r.text).group(1)
    preview_token = re.search(r'name="token" value="([0-9a-f]{32})"', r.text).group(1)
    r = c.post("/imports/confirm", data={"sha256": sha, "token": preview_token, "csrf_token": token})
    assert r.status_code == 200 and 'data-testid="import-done"' in r.text
    r = c.post("/imports/confirm", data={"sha256": sha, "token": preview_token, "csrf_token": token})
    assert r.status_code == 404  # the preview is used up: nothing is written twice
    hist = c.get(f"/enterprises/{firm}/history")
    assert hist.status_code == 200 and "777.0000" in hist.text and "750.0000" in hist.text
    before = c.get(f"/enterprises/{firm}/history", params={"as_of": "2000-01-01"}).text
    assert 'data-field="tax_wan">750.0000<' in before
    assert 'href="/enterprises/' + firm + '/history"' in c.get(f"/enterprises/{firm}").text


def test_a_refused_upload_offers_its_validation_report(web_store, data_dir):
    c, token = _admin(web_store)
    r = _upload(c, token, "坏数据.csv", BROKEN_CSV)
    assert r.status_code == 400
    link = re.search(r'href="(/imports/report/[0-9a-f]{64}\.xlsx)"', r.text).group(1)
    rep = c.get(link)
    assert rep.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(rep.content))
    assert wb["问题清单"].max_row > 2 and wb.worksheets[0]["D2"].comment is not None  # 不存在镇 marked
    town = make_client(web_store.engine)
    login(town, web_store.users["town"])
    assert town.get(link).status_code == 403
