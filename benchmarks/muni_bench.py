"""亩均 evaluation benchmark: the engine against a hand-written DuckDB query and a plain pandas
implementation of the same method (zj-huangyan-2022: two parts, six + two indicators, fixed
benchmarks, "no emission data → the part's average points", zero denominators → 0 points, rank in
the part), measured in the same run on the same data.

    .venv/bin/python benchmarks/muni_bench.py                 # 5,000 and 150,000 firms
    .venv/bin/python benchmarks/muni_bench.py --sizes 5000 150000 5000000 --threads 2

Each (size, implementation) runs in its own process, reading the same parquet file, so that peak
memory (max RSS of that process, minus the same process's RSS after reading the input) is its own.
Time excludes reading the input; the engine's one-off SQL compile is reported on its own line.
Data: ``qunlian.demo.generator.generate_enterprise_years`` (scale 1 ≈ 3,850 firms).
Results are appended to benchmarks/muni_bench_results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
METHOD = "zj-huangyan-2022"
YEAR = 2022

ABOVE = [  # code, numerator, denominator, weight, benchmark
    ("tax_per_mu", "tax_wan", "land_mu", 30, 24.097),
    ("va_per_mu", "value_added_wan", "land_mu", 20, 136.16),
    ("va_per_tce", "value_added_wan", "energy_tce", 20, 2.694),
    ("va_per_emission", "value_added_wan", "emission_eq_t", 10, 4929.81),
    ("va_per_employee", "value_added_wan", "employees", 10, 18.14),
    ("rd_ratio", "rd_wan", "main_revenue_wan", 10, 0.0302),
]
BELOW = [
    ("tax_per_mu", "tax_wan", "land_mu", 50, 11.5932),
    ("tax_per_kwh", "tax_wan", "electricity_wan_kwh", 50, 0.2352),
]


def hand_sql() -> str:
    """The same math written by hand, as one DuckDB query with the same per-indicator output
    (value, benchmark, points, status), the total and the rank in the part.

    Written the way one would write it for DuckDB by hand: the part's average emission points is a
    one-row aggregate cross-joined in, and the rank is computed over (uscc, part, total) only and
    joined back on uscc, so no window operator carries the wide rows (see docs/muni.md §6)."""
    def status(num, den):
        return (f"CASE WHEN {num} IS NULL OR {den} IS NULL THEN 'missing' WHEN {den} = 0 THEN 'zero_denominator' "
                f"WHEN {num} / {den} < 0 THEN 'negative' ELSE 'ok' END")

    def raw(num, den, w, b):
        return f"{num} / nullif({den}, 0) / {b} * {w}"

    def points(part, code, num, den, w, b):
        if code == "va_per_emission":
            return f"coalesce({raw(num, den, w, b)}, m.{part}_{code}_mean, 0)"
        return f"coalesce({raw(num, den, w, b)}, 0)"

    sel = []
    for part, inds in (("above", ABOVE), ("below", BELOW)):
        for code, num, den, w, b in inds:
            c = f"{part}_{code}"
            sel.append(f"CASE WHEN part = '{part}' THEN {num} / nullif({den}, 0) END AS {c}_value")
            sel.append(f"CASE WHEN part = '{part}' THEN {b} END AS {c}_benchmark")
            sel.append(f"CASE WHEN part = '{part}' THEN {status(num, den)} END AS {c}_status")
            sel.append(f"CASE WHEN part = '{part}' THEN {points(part, code, num, den, w, b)} END AS {c}_points")
    above = " + ".join(points("above", *i) for i in ABOVE)
    below = " + ".join(points("below", *i) for i in BELOW)
    total = f"CASE part WHEN 'above' THEN {above} WHEN 'below' THEN {below} END"
    firms = (f"(SELECT *, CASE WHEN above_scale THEN 'above' WHEN NOT above_scale THEN 'below' END AS part "
             f"FROM enterprise_years WHERE year = {YEAR})")
    code, num, den, w, b = next(i for i in ABOVE if i[0] == "va_per_emission")
    return f"""
    WITH m AS (
      SELECT avg({raw(num, den, w, b)}) AS above_va_per_emission_mean
      FROM enterprise_years WHERE year = {YEAR} AND above_scale
    ), r AS (
      SELECT uscc AS r_uscc, rank() OVER (PARTITION BY part ORDER BY total DESC) AS rank
      FROM (SELECT uscc, part, {total} AS total FROM {firms} p CROSS JOIN m WHERE part IS NOT NULL)
    )
    SELECT uscc, name, town, part, land_mu, tax_wan, value_added_wan, energy_tce, {", ".join(sel)},
           {total} AS total_score, r.rank
    FROM {firms} p CROSS JOIN m LEFT JOIN r ON p.uscc = r.r_uscc"""


def run_pandas(table):
    """The same math and the same per-indicator output as the hand SQL (value, benchmark, status,
    points per part and indicator; total; rank in the part), written as plain vectorised pandas."""
    import numpy as np
    import pandas as pd

    df = table.to_pandas()
    df = df[df["year"] == YEAR].copy()
    above = df["above_scale"]
    part = pd.Series(np.where(above.isna(), None, np.where(above.fillna(False), "above", "below")), index=df.index)
    df["part"] = part
    total = pd.Series(np.nan, index=df.index)
    for name, inds in (("above", ABOVE), ("below", BELOW)):
        in_part = part == name
        part_total = pd.Series(0.0, index=df.index)
        for code, num, den, w, b in inds:
            n, d = df[num].astype("float64"), df[den].astype("float64")
            v = n / d.replace(0, np.nan)
            p = v / b * w
            if code == "va_per_emission":
                p = p.fillna(p[in_part].mean())  # no emission data → the part's average points
            p = p.fillna(0.0)
            status = np.select([n.isna() | d.isna(), d == 0, v < 0], ["missing", "zero_denominator", "negative"], "ok")
            c = f"{name}_{code}"
            df[f"{c}_value"] = v.where(in_part)
            df[f"{c}_benchmark"] = pd.Series(b, index=df.index).where(in_part)
            df[f"{c}_status"] = pd.Series(status, index=df.index).where(in_part)
            df[f"{c}_points"] = p.where(in_part)
            part_total += p
        total = total.where(~in_part, part_total)
    df["total_score"] = total
    df["rank"] = df.groupby("part")["total_score"].rank(method="min", ascending=False)
    return df


def child(impl: str, path: str, threads: int) -> None:
    import psutil
    import pyarrow.parquet as pq

    proc = psutil.Process()
    table = pq.read_table(path)
    base = proc.memory_info().rss
    t0 = time.perf_counter()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    extra = {}
    if impl == "engine":
        import duckdb

        from qunlian.per_mu.engine import _compiled, evaluate
        from qunlian.per_mu.presets import get_method

        m = get_method(METHOD)
        c0 = time.perf_counter()
        _compiled(m.model_dump_json(), YEAR, False)
        extra["compile_s"] = time.perf_counter() - c0
        con = duckdb.connect()
        con.execute(f"SET threads={threads}")
        t0 = time.perf_counter()
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        ev = evaluate(table, m, YEAR, backend=con, order=False)
        rows = ev.results.num_rows
        check = float(sum(x for x in ev.results.column("total_score").to_pylist()[:1000] if x is not None))
    elif impl == "sql":
        import duckdb

        con = duckdb.connect()
        con.execute(f"SET threads={threads}")
        con.register("enterprise_years", table)
        t0 = time.perf_counter()
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        res = con.sql(hand_sql()).to_arrow_table()
        rows = res.num_rows
        check = 0.0
    else:
        df = run_pandas(table)
        rows = len(df)
        check = 0.0
    elapsed = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    peak = r1.ru_maxrss * 1024
    print(json.dumps({"impl": impl, "seconds": elapsed, "cpu_s": cpu, "rows": rows, "peak_mb": (peak - base) / 2**20,
                      "peak_total_mb": peak / 2**20, "check": check, **extra}))


def agree(path: str) -> float:
    """Largest difference in total score between the engine, the hand SQL and pandas on one file
    (and the engine's and the hand SQL's ranks must be equal)."""
    import duckdb
    import numpy as np
    import pyarrow.parquet as pq

    from qunlian.per_mu.engine import evaluate
    from qunlian.per_mu.presets import get_method

    table = pq.read_table(path)
    er = evaluate(table, get_method(METHOD), YEAR).results.select(["uscc", "total_score", "rank"]).to_pylist()
    e = {r["uscc"]: r["total_score"] for r in er}
    con = duckdb.connect()
    con.register("enterprise_years", table)
    sr = con.sql(hand_sql()).to_arrow_table().select(["uscc", "total_score", "rank"]).to_pylist()
    s = {r["uscc"]: r["total_score"] for r in sr}
    assert {r["uscc"]: r["rank"] for r in er} == {r["uscc"]: r["rank"] for r in sr}, "engine and hand SQL ranks differ"
    p = dict(zip(run_pandas(table)["uscc"], run_pandas(table)["total_score"]))
    worst = 0.0
    for k, v in e.items():
        for other in (s.get(k), p.get(k)):
            if v is None or other is None or (isinstance(other, float) and np.isnan(other)):
                assert (v is None) == (other is None or np.isnan(other)), k
                continue
            worst = max(worst, abs(v - other))
    return worst


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[5000, 150000])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--impls", nargs="+", default=["engine", "sql", "pandas"])
    ap.add_argument("--child", nargs=2, metavar=("IMPL", "FILE"))
    ap.add_argument("--no-save", action="store_true")
    args = ap.parse_args()
    if args.child:
        child(args.child[0], args.child[1], args.threads)
        return

    import pyarrow.parquet as pq

    from qunlian.demo.generator import generate_enterprise_years

    lines = [f"## {time.strftime('%Y-%m-%d %H:%M')} — {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} cores, DuckDB threads={args.threads}, method {METHOD}, "
             f"load average at start {os.getloadavg()[0]:.2f}", "",
             "| firms | engine s | hand SQL s | pandas s | engine ÷ SQL | pandas ÷ engine | engine CPU s | SQL CPU s | pandas CPU s "
             "| engine peak MB | SQL peak MB | pandas peak MB | compile s | load |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            g0 = time.perf_counter()
            t = generate_enterprise_years(seed=7, scale=n / 3851, year=YEAR)
            path = str(Path(tmp) / f"ey_{n}.parquet")
            pq.write_table(t, path)
            firms = t.num_rows
            del t
            print(f"{firms:,} firms generated in {time.perf_counter() - g0:.1f} s", flush=True)
            if n <= 200_000:
                print(f"  largest score difference engine/SQL/pandas: {agree(path):.2e}", flush=True)
            res = {}
            load = os.getloadavg()[0]
            for impl in args.impls:
                out = subprocess.run([sys.executable, __file__, "--threads", str(args.threads), "--child", impl, path],
                                     capture_output=True, text=True)
                if out.returncode != 0:
                    print(out.stderr[-2000:], file=sys.stderr)
                    res[impl] = None
                    continue
                res[impl] = json.loads(out.stdout.strip().splitlines()[-1])
                r = res[impl]
                print(f"  {impl:7} {r['seconds']:8.3f} s  CPU {r['cpu_s']:8.3f} s  peak +{r['peak_mb']:8.0f} MB", flush=True)
            e, s, p = res.get("engine"), res.get("sql"), res.get("pandas")
            f = lambda r, k="seconds": f"{r[k]:.3f}" if r else "—"  # noqa: E731
            ratio = lambda a, b: f"{a['seconds'] / b['seconds']:.2f}×" if a and b else "—"  # noqa: E731
            mb = lambda r: f"{r['peak_mb']:.0f}" if r else "—"  # noqa: E731
            lines.append(f"| {firms:,} | {f(e)} | {f(s)} | {f(p)} | {ratio(e, s)} | {ratio(p, e)} | {f(e, 'cpu_s')} | {f(s, 'cpu_s')} | "
                         f"{f(p, 'cpu_s')} | {mb(e)} | {mb(s)} | {mb(p)} | {e['compile_s']:.2f} | {load:.2f} |" if e else f"| {firms:,} | — |")
            print(lines[-1], flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if not args.no_save:
        with (HERE / "muni_bench_results.md").open("a", encoding="utf-8") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
