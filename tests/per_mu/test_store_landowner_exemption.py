"""Store mode sees what the importer stored: tenants graded as their landowner, exemptions with reasons."""

from qunlian.per_mu.runs import evaluate_store, run_results
from qunlian.core.uscc import make_uscc
from qunlian.enterprises.enterprise_years import import_enterprise_years
from qunlian.targets.plans.loader import load_reference_data
from qunlian.platform.db import session_factory, transaction

HEADER = "统一社会信用代码,企业名称,年度,镇街道,行业代码,是否规上,用地面积（亩）,税收（万元）,增加值（万元）," \
         "综合能耗（吨标准煤）,排放当量（吨）,从业人员,研发费用（万元）,主营业务收入（万元）,承租企业数,土地所有企业代码,免评原因"


def _firms():
    codes = [make_uscc("330482", f"TKTQ{n:04d}") for n in range(8)]
    owner, tenant, exempt = codes[0], codes[1], codes[2]
    lines = [HEADER]
    for year in (2022, 2023):
        for i, code in enumerate(codes):
            land = 0 if code == tenant else 20 + 5 * i
            tenants = 1 if code == owner else 0
            landowner = owner if code == tenant else ""
            reason = "搬迁企业" if code == exempt and year == 2023 else ""
            tax = 100 + 40 * i
            lines.append(f"{code},测试企业{i},{year},经开区,3670,是,{land},{tax},{tax * 4},{200 + 10 * i},{5 + i},"
                         f"{50 + 5 * i},{tax * 0.1:.1f},{tax * 20},{tenants},{landowner},{reason}")
    return owner, tenant, exempt, "\n".join(lines) + "\n"


def _imported(engine, tmp_path):
    """The plans' towns loaded and the test firms imported through the real importer."""
    with transaction(engine) as s:
        load_reference_data(s)
    owner, tenant, exempt, text = _firms()
    path = tmp_path / "firms.csv"
    path.write_text(text, encoding="utf-8")
    import_enterprise_years(engine, path)
    return owner, tenant, exempt


def test_tenant_takes_landowner_grade_and_exemption_is_excluded(engine, tmp_path):
    owner, tenant, exempt = _imported(engine, tmp_path)

    run = evaluate_store(engine, "demo-pinghu", 2023, actor="test")
    with session_factory(engine)() as s:
        rows = {r["uscc"]: r for r in run_results(s, run.id).to_pylist()}
    assert rows[owner]["grade"] is not None
    assert rows[tenant]["grade"] == rows[owner]["grade"]
    assert rows[tenant]["landowner_uscc"] == owner and rows[tenant]["tenant_note"]
    assert rows[exempt]["grade"] is None
    assert "搬迁" in rows[exempt]["excluded_reason"]


def test_bad_landowner_and_unknown_exemption_are_refused(engine, tmp_path):
    import pytest

    from qunlian.core.errors import ValidationFailed

    with transaction(engine) as s:
        load_reference_data(s)
    owner, _tenant, _exempt, text = _firms()
    broken = text.replace(f",{owner},", ",91330482XXXXXXXXX1,", 1).replace("搬迁企业", "关停企业", 1)
    path = tmp_path / "broken.csv"
    path.write_text(broken, encoding="utf-8")
    with pytest.raises(ValidationFailed) as err:
        import_enterprise_years(engine, path)
    messages = [(p.column, p.message) for p in err.value.problems]
    assert any(c == "土地所有企业代码" and "无效" in m for c, m in messages), messages
    assert any(c == "免评原因" and "关停企业" in m for c, m in messages), messages


def test_cached_results_follow_every_adjustment(engine, tmp_path):
    """Run results are cached (runs are immutable); an adjustment must show at once all the same."""
    from qunlian.per_mu.runs import adjust

    owner, _tenant, _exempt = _imported(engine, tmp_path)
    run = evaluate_store(engine, "demo-pinghu", 2023, actor="test")
    def final(uscc):
        with session_factory(engine)() as s:
            rows = {r["uscc"]: r for r in run_results(s, run.id).to_pylist()}
        return rows[uscc]["final_grade"], rows[uscc]["adjustment_reason"]

    before, _ = final(owner)
    new = "D" if before != "D" else "A"
    with transaction(engine) as s:
        adjust(s, run.id, owner, reason="核查后调档", actor="test", grade=new)
    assert final(owner) == (new, "核查后调档")
    with transaction(engine) as s:
        adjust(s, run.id, owner, reason="复核恢复", actor="test", grade=before)
    assert final(owner) == (before, "复核恢复")
