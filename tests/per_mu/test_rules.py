"""Strict method schema and loader: presets load; bad method files are refused naming file, key and reason."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from qunlian.per_mu.presets import MethodError, PRESETS, check_overlaps, get_method, load_all, load_method

GOOD = PRESETS / "zj-huangyan-2022.yaml"


def test_presets_load_and_cite_sources() -> None:
    ms = load_all([PRESETS])
    assert {"zj-huangyan-2022", "zj-huangyan-2021", "zj-wenling-2022", "demo-pinghu"} <= set(ms)
    for m in ms.values():
        assert m.sources and all(s.title for s in m.sources)


def test_huangyan_numbers_are_reference_s1() -> None:
    m22, m21 = get_method("zj-huangyan-2022"), get_method("zj-huangyan-2021")
    want22 = {"tax_per_mu": (30, 24.097), "va_per_mu": (20, 136.16), "va_per_tce": (20, 2.694),
              "va_per_emission": (10, 4929.81), "va_per_employee": (10, 18.14), "rd_ratio": (10, 0.0302)}
    want21 = {"tax_per_mu": 26.01, "va_per_mu": 132.27, "va_per_tce": 2.54, "va_per_emission": 4861.08,
              "va_per_employee": 17.45, "rd_ratio": 0.0305}
    for code, (w, b) in want22.items():
        i = next(i for i in m22.part("above").indicators if i.code == code)
        assert (i.weight, i.benchmark.fixed) == (w, b)
        j = next(i for i in m21.part("above").indicators if i.code == code)
        assert (j.weight, j.benchmark.fixed) == (w, want21[code])
    assert [(i.weight, i.benchmark.fixed) for i in m22.part("below").indicators] == [(50, 11.5932), (50, 0.2352)]
    assert [(i.weight, i.benchmark.fixed) for i in m21.part("below").indicators] == [(50, 16.601058), (50, 0.236565)]
    emission = next(i for i in m22.part("above").indicators if i.code == "va_per_emission")
    assert emission.missing == "group_mean_points"


def test_wenling_cutoffs_and_deductions() -> None:
    m = get_method("zj-wenling-2022")
    a, b = m.part("above"), m.part("below")
    assert [(c.grade, c.top_share) for c in a.grades.cutoffs] == [("A", 0.2), ("B", 0.8), ("C", 0.95), ("D", 1.0)]
    assert [(c.grade, c.top_share) for c in b.grades.cutoffs] == [("A", 0.05), ("B", 0.75), ("C", 0.95), ("D", 1.0)]
    assert (a.deductions.first_tenant, a.deductions.each_further_tenant) == (0, 5)
    assert (b.deductions.first_tenant, b.deductions.each_further_tenant) == (10, 5)


def test_family_and_year_pick_the_version() -> None:
    assert get_method("zj-huangyan", 2021).id == "zj-huangyan-2021"
    assert get_method("zj-huangyan", 2022).id == "zj-huangyan-2022"
    with pytest.raises(MethodError):
        get_method("zj-huangyan", 2019)


def _write(tmp_path: Path, data: dict, name: str = "m.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return p


def _good() -> dict:
    return yaml.safe_load(GOOD.read_text(encoding="utf-8"))


def _refused(path: Path) -> str:
    with pytest.raises(MethodError) as exc:
        load_method(path)
    text = str(exc.value)
    assert str(path) in text
    return text


def test_unknown_key_is_refused(tmp_path: Path) -> None:
    d = _good()
    d["parts"][0]["indicators"][0]["wieght"] = 30
    text = _refused(_write(tmp_path, d))
    assert "parts[0:above].indicators[0:tax_per_mu].wieght" in text and "未知的键" in text


def test_weight_not_a_number_is_refused(tmp_path: Path) -> None:
    d = _good()
    d["parts"][0]["indicators"][1]["weight"] = "twenty"
    text = _refused(_write(tmp_path, d))
    assert "indicators[1:va_per_mu].weight" in text
    d["parts"][0]["indicators"][1]["weight"] = "20"  # a quoted number is not a number either
    assert "weight" in _refused(_write(tmp_path, d))


def test_overlapping_cutoffs_are_refused(tmp_path: Path) -> None:
    d = _good()
    d["parts"][0]["grades"] = {"by": "score", "cutoffs": [{"grade": "A", "min_score": 80}, {"grade": "B", "min_score": 90}, {"grade": "C"}]}
    text = _refused(_write(tmp_path, d))
    assert "parts[0:above].grades" in text and "overlap" in text
    d["parts"][0]["grades"] = {"by": "rank_share", "cutoffs": [{"grade": "A", "top_share": 0.5}, {"grade": "B", "top_share": 0.3},
                                                                {"grade": "C", "top_share": 1.0}]}
    assert "overlap" in _refused(_write(tmp_path, d))


def test_overlapping_effective_periods_are_refused(tmp_path: Path) -> None:
    d = _good()
    d["id"] = "zj-huangyan-2022b"
    d["version"] = "2022b"
    d["effective"] = {"from_year": 2022}
    _write(tmp_path, d, "other.yaml")
    with pytest.raises(MethodError) as exc:
        load_all([PRESETS, tmp_path])
    text = str(exc.value)
    assert "other.yaml" in text and "effective" in text and "重叠" in text


def test_other_bad_files(tmp_path: Path) -> None:
    d = _good()
    del d["sources"]
    assert "sources" in _refused(_write(tmp_path, d))
    d = _good()
    d["parts"][0]["data_rules"]["missing"] = "guess"
    assert "data_rules.missing" in _refused(_write(tmp_path, d))
    p = tmp_path / "dup.yaml"
    p.write_text(GOOD.read_text(encoding="utf-8") + "\nid: again\n", encoding="utf-8")
    assert "重复的键" in _refused(p)
    d = _good()
    d["parts"][0]["indicators"][0]["benchmark"] = {"fixed": 0}
    assert "benchmark.fixed" in _refused(_write(tmp_path, d))


def test_check_overlaps_direct() -> None:
    m = get_method("zj-huangyan-2022")
    with pytest.raises(MethodError):
        check_overlaps([(m, "a.yaml"), (m, "b.yaml")])
