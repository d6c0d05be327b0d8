"""Kill-safe import: a `qunlian import enterprise-years` killed at any point leaves nothing partial,
and importing the same file again changes nothing.

The real command runs in a subprocess (tests/support/kill_runner.py) that SIGKILLs itself at a point
counted in SQL statements: while the file is read and checked, after the first, a middle and the last
write, and at the commit (before COMMIT is sent). The points come from a first, complete run of the
same import on a replica store (same migrations, same towns), so no statement count is written here
and nothing depends on the importer's internals. After each kill, every row of every table of the
store must be what it was before: not even an import batch or an audit line may remain.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from io_helpers import HEADER, good_rows, seed_towns, write_csv, write_xlsx
from sqlalchemy import Engine, MetaData, create_engine, select, text

from qunlian.enterprises.models import Enterprise, EnterpriseYear
from qunlian.platform.db import make_engine, migrate
from qunlian.regions.models import Town

RUNNER = Path(__file__).parents[1] / "support" / "kill_runner.py"
ROWS = 300
TOWN_OF = {"当湖街道": "danghu", "当湖": "danghu", "钟埭街道": "zhongdai"}  # good_rows' towns → codes


@pytest.fixture
def store(engine: Engine) -> Engine:
    return seed_towns(engine)


@pytest.fixture
def replica_url(store_backend: str, tmp_path: Path) -> Iterator[str]:
    """A second store like `store`, on the same database server, for the measuring run."""
    test_url = os.environ.get("QUNLIAN_TEST_DATABASE_URL", "")
    if not test_url or test_url.startswith("sqlite"):
        url, admin, schema = f"sqlite:///{tmp_path / 'replica.sqlite'}", None, ""
    else:  # its own schema, as tests/conftest.py gives each test (the subprocess gets it by search_path)
        schema = "t_" + uuid.uuid4().hex[:12]
        admin = create_engine(test_url)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = f"{test_url}{'&' if '?' in test_url else '?'}options=-csearch_path%3D{schema}"
    eng = make_engine(url)
    migrate(eng)
    seed_towns(eng)
    eng.dispose()
    yield url
    if admin is not None:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


# --------------------------------------------------------------------------- running and looking


def run_import(url: str, tmp_path: Path, file: Path, *, kill_at: str = "", counts: Path | None = None):
    env = {**os.environ, "QUNLIAN_DATABASE_URL": url, "QUNLIAN_DATA_DIR": str(tmp_path / "data"),
           "KILL_AT": kill_at, "KILL_FILE": str(file), "KILL_COUNTS": str(counts or "")}
    args = ["import", "enterprise-years", str(file), "--unit", "tax_wan=元", "--source", "税务局"]
    return subprocess.run([sys.executable, str(RUNNER), *args], env=env, capture_output=True, text=True,
                          timeout=300, cwd=tmp_path, check=False)


def _norm(v: Any) -> Any:
    if isinstance(v, (dict, list)):
        return json.dumps(v, sort_keys=True, ensure_ascii=False, default=str)
    return v


def dump(engine: Engine, *, skip_tables: frozenset[str] = frozenset(),
         skip_columns: frozenset[str] = frozenset()) -> dict[str, list[tuple]]:
    """Every row of every table of the store (found by reflection, so new tables are included), sorted."""
    md = MetaData()
    md.reflect(engine)
    out: dict[str, list[tuple]] = {}
    with engine.connect() as conn:
        for t in md.sorted_tables:
            if t.name in skip_tables:
                continue
            cols = [c for c in t.columns if c.name not in skip_columns]
            out[t.name] = sorted((tuple(_norm(v) for v in row) for row in conn.execute(select(*cols))), key=repr)
    return out


def diff(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> str:
    """What changed, table by table: rows gone and rows new (a few of each)."""
    lines = []
    for name in sorted(set(before) | set(after)):
        b, a = before.get(name), after.get(name)
        if b is None or a is None:
            lines.append(f"table {name}: {'appeared' if b is None else 'vanished'}")
            continue
        gone = [r for r in b if r not in a]
        new = [r for r in a if r not in b]
        if gone or new:
            lines.append(f"table {name}: {len(b)} → {len(a)} rows; {len(gone)} gone {gone[:3]}; {len(new)} new {new[:3]}")
    return "\n".join(lines)


def kill_points(m: dict[str, Any]) -> list[str]:
    """Where to kill, from the measuring run's counts."""
    writes, first_write, opened = m["writes"], m["before_first_write"], m["after_open"]
    assert writes >= 1 and m["write_commits"] >= 1, m
    assert opened is not None and first_write is not None and opened <= first_write, m
    points = ["first-after-open"]  # the file is read; the store is being read and checked
    if first_write >= 1:
        points.append(f"after-statement:{first_write}")  # everything checked, nothing written yet
    points += [f"after-write:{n}" for n in sorted({1, (writes + 1) // 2, writes})]
    points += [f"commit:{k}" for k in range(1, m["write_commits"] + 1)]  # COMMIT not yet sent
    return points


def check_stored(engine: Engine) -> None:
    """The store holds exactly the file's 300 enterprise-years (tax declared in 元, stored in 万元)."""
    q = (select(Enterprise.uscc, Enterprise.name, Town.code, Enterprise.industry_code, EnterpriseYear.year,
                EnterpriseYear.above_scale, EnterpriseYear.land_mu, EnterpriseYear.tax_wan, EnterpriseYear.employees)
         .join(EnterpriseYear, EnterpriseYear.enterprise_id == Enterprise.id)
         .join(Town, Town.id == Enterprise.town_id))
    with engine.connect() as conn:
        stored = sorted(tuple(r) for r in conn.execute(q))
    expected = sorted((r[0], r[1], TOWN_OF[r[3]], r[4], r[2], r[5] == "是", float(r[6]), r[7] / 10_000, r[8])
                      for r in good_rows(ROWS))
    assert len(stored) == ROWS
    assert [(*e[:6], pytest.approx(e[6]), pytest.approx(e[7]), e[8]) for e in expected] == stored


# --------------------------------------------------------------------------- the test


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_import_killed_anywhere_leaves_nothing_and_reimport_changes_nothing(
        fmt, tmp_path, db_url, store, replica_url):
    rows = [HEADER, *good_rows(ROWS)]
    file = (write_xlsx if fmt == "xlsx" else write_csv)(tmp_path / f"税务2023.{fmt}", rows)

    # measure: the same import, complete, on the replica
    counts = tmp_path / "counts.json"
    r = run_import(replica_url, tmp_path, file, counts=counts)
    assert r.returncode == 0, r.stdout + r.stderr
    measured = json.loads(counts.read_text(encoding="utf-8"))
    points = kill_points(measured)

    # kill at each point: the store is exactly as before, every table, every row
    before = dump(store)
    for point in points:
        r = run_import(db_url, tmp_path, file, kill_at=point)
        assert r.returncode == -signal.SIGKILL, f"{point}: not killed (rc {r.returncode})\n{r.stdout}{r.stderr}"
        after = dump(store)
        assert after == before, f"import killed at {point} (of {measured['writes']} writes) left a partial store:\n" \
                                f"{diff(before, after)}"

    # a complete import stores the file
    r = run_import(db_url, tmp_path, file)
    assert r.returncode == 0, r.stdout + r.stderr
    check_stored(store)

    # the same file again changes nothing. The importer may or may not record the second import (an
    # import batch, an audit line, the enterprise-years' import_batch_id pointing at the newer batch):
    # those are left out of the comparison; every other row of every table, figures and revisions
    # included, must be as the first import left it.
    skip = {"skip_tables": frozenset({"import_batches", "audit_log"}), "skip_columns": frozenset({"import_batch_id"})}
    first = dump(store, **skip)
    r = run_import(db_url, tmp_path, file)
    assert r.returncode == 0, r.stdout + r.stderr
    again = dump(store, **skip)
    assert again == first, f"re-importing the same file changed the store:\n{diff(first, again)}"
    check_stored(store)
