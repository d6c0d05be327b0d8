"""The standalone reader (per_mu.inputs) reads through the one tabular reader and the one column
vocabulary: the same headers, encodings, workbooks and limits as the importer."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from qunlian.core.errors import ValidationFailed
from qunlian.enterprises import columns as C
from qunlian.per_mu.inputs import read_input


def test_chinese_headers_gb18030_title_row_and_engine_columns(tmp_path: Path) -> None:
    f = tmp_path / "企业.csv"
    f.write_text("2022 年亩均评价数据\n"
                 "统一社会信用代码,年度,是否规上,用地面积（亩）,税收（元）,投产年份,负面清单,出租方信用代码,免评情形,备注\n"
                 "A,2022年,是,5,600000,2019,safety_accident,,新办企业,x\n"
                 "B,2022,否,1,—,,,A,,\n", encoding="gb18030")
    t = read_input(f)
    assert t.column_names == ["uscc", "year", "above_scale", "land_mu", "tax_wan", "founded_year", "negative_events",
                              "landowner_uscc", "exemption"]
    rows = t.to_pylist()
    assert rows[0] == {"uscc": "A", "year": 2022, "above_scale": True, "land_mu": 5.0, "tax_wan": 60.0,
                       "founded_year": 2019, "negative_events": "safety_accident", "landowner_uscc": None,
                       "exemption": "新办企业"}
    assert rows[1]["tax_wan"] is None and rows[1]["landowner_uscc"] == "A"


def test_problems_name_the_row_a_user_sees(tmp_path: Path) -> None:
    f = tmp_path / "in.csv"
    f.write_text("说明：单位万元\nuscc,year,tax_wan,above_scale\n\nA,2022,5万,也许\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as info:
        read_input(f)
    got = {(p.row, p.column) for p in info.value.problems}
    assert got == {(4, "tax_wan"), (4, "above_scale")}
    assert all(p.file == "in.csv" for p in info.value.problems)


def test_parquet_typed_and_dictionary_columns(tmp_path: Path) -> None:
    f = tmp_path / "in.parquet"
    pq.write_table(pa.table({"uscc": ["A", "B"], "year": [2022, 2022], "land_mu": [5, 2],
                             "town": pa.array(["当湖街道", "当湖街道"]).dictionary_encode(),
                             "industry_code": [111, 3976]}), f)
    t = read_input(f)
    assert t.schema.field("land_mu").type == pa.float64() and t.schema.field("year").type == pa.int64()
    assert t.column("town").to_pylist() == ["当湖街道", "当湖街道"]
    assert t.column("industry_code").to_pylist() == ["0111", "3976"]  # as the importer pads Excel's lost zero


def test_the_upload_limits_apply(tmp_path: Path, monkeypatch) -> None:
    f = tmp_path / "in.csv"
    f.write_text("uscc,year\n" + "A,2022\n" * 100, encoding="utf-8")
    monkeypatch.setenv("QUNLIAN_MAX_UPLOAD_MB", "0.0001")
    with pytest.raises(ValidationFailed, match="文件过大"):
        read_input(f)
    xls = tmp_path / "in.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ValidationFailed, match="不支持的文件类型"):
        read_input(xls)


def test_every_header_the_engine_reads_is_in_the_columns_module() -> None:
    from typing import get_args

    from qunlian.per_mu.schema import NumericColumn

    for name in get_args(NumericColumn):
        assert name in C.BY_NAME, name
    for name in ("uscc", "year", "above_scale", "landowner_uscc", "exemption", "negative_events", "founded_year",
                 "chain", "tenants"):
        assert C.lookup(name, engine=True) is not None, name
    assert C.lookup("negative_events") is None  # not an enterprise-year column of the importer
