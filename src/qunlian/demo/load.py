"""Put a demo county into the store: reference data, then the invented firms, in one transaction.

The county's previous demo firms (is_demo true, in its region) and everything hanging off them are
replaced; real firms and the other demo county's firms are never touched. Users and service requests linked to a demo firm are linked again to the new firm
with the same USCC (the same seed gives the same codes), or unlinked when it no longer exists.
Rows go in with bulk Core inserts, so a county loads in seconds on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.orm import Session

from qunlian.core.errors import QunlianError
from qunlian.core.messages import Message
from qunlian.demo.counties import PINGHU, DemoCounty, install_county
from qunlian.demo.generator import DemoData, calibration_report, generate, load_calibration
from qunlian.platform.db import audit, migrate, transaction
from qunlian.accounts.models import User
from qunlian.chains.models import ChainNode, EnterpriseChainNode
from qunlian.enterprises.models import Enterprise, EnterpriseEvent, EnterpriseYear, ServiceRequest
from qunlian.per_mu.models import MuniRemediation, MuniResult
from qunlian.regions.models import Park, Region, Town

Progress = Callable[[str, int, int], None]
CHUNK = 20_000
YEAR_COLUMNS = [
    c
    for c in (
        "year above_scale land_mu rented_out_mu tenants tax_wan value_added_wan revenue_wan main_revenue_wan "
        "output_wan energy_tce electricity_wan_kwh emission_eq_t employees rd_wan profit_wan assets_wan "
        "liabilities_wan export_wan high_tech_revenue_wan invention_patents"
    ).split()
]
STEPS = 7
# Rows that point to a firm and carry its USCC: unlinked before the firms are replaced, linked again
# to the new firm with the same USCC (the same seed gives the same codes).
BY_USCC = (MuniResult, MuniRemediation)


def _chunks(table: pa.Table, size: int = CHUNK) -> Iterator[pa.Table]:
    for start in range(0, table.num_rows, size):
        yield table.slice(start, size)


def _bulk_insert(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows: COPY on PostgreSQL (same transaction), executemany elsewhere."""
    if not rows:
        return
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), rows)
        return
    cols = list(rows[0])
    json_cols = {c.name for c in table.columns if c.type.__class__.__name__ == "JSON"}
    dbapi = conn.connection.dbapi_connection
    names = ", ".join(f'"{c}"' for c in cols)
    with dbapi.cursor() as cur, cur.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
        for r in rows:
            copy.write_row([json.dumps(r[c], ensure_ascii=False) if c in json_cols else r[c] for c in cols])


def _towns(session: Session, region_id: int) -> dict[str, int]:
    """The county's towns by name and alias (another county may have a town of the same name)."""
    index: dict[str, int] = {}
    for t in session.scalars(select(Town).where(Town.region_id == region_id)):
        index[t.name] = t.id
        for a in t.aliases or []:
            index.setdefault(a, t.id)
    return index


def _parks(session: Session, towns: dict[str, int], county: DemoCounty) -> dict[str, int]:
    """Park ids by name; parks the calibration names but the store lacks are created."""
    have = {p.name: p.id for p in session.scalars(select(Park))}
    prefix = "demo-park" if county is PINGHU else f"demo-{county.key}-park"  # 平湖's codes as before
    for i, spec in enumerate(load_calibration(county.calibration).town_profile.parks):
        if spec.name not in have:
            row = Park(code=f"{prefix}-{i + 1}", name=spec.name, kind=spec.kind, town_id=towns.get(spec.town))
            session.add(row)
            session.flush()
            have[spec.name] = row.id
    return have


def chain_links(
    data: DemoData, nodes: list[tuple[int, list[str], int]]
) -> tuple[list[tuple[str, int, str]], set[str]]:
    """(uscc, node id, role) for every firm whose industry code a node lists, and the chain masters.

    nodes: (id, codes, depth rank) — rank 0 for chains, 1 for clusters. A firm is linked to the
    matching nodes of the lowest rank only, so a chain firm is not linked again to its cluster.
    A node's codes may be at any GB/T 4754 level: a firm belongs when its 4-digit code starts with
    one of them. Chain masters (链主): per chain, the firm with the largest output in any year (two
    for chains of 40 firms or more).
    """
    ent = data.enterprises
    codes = ent["industry_code"].to_pylist()
    usccs = ent["uscc"].to_pylist()
    ey = data.enterprise_years
    best = ey.group_by("uscc").aggregate([("output_wan", "max")])
    max_out = dict(zip(best["uscc"].to_pylist(), best["output_wan_max"].to_pylist(), strict=True))
    by_code: dict[str, list[int]] = {}
    for code in set(c for c in codes if c):
        hits = [(rank, nid) for nid, prefixes, rank in nodes if any(code.startswith(p) for p in prefixes)]
        best_rank = min((rank for rank, _ in hits), default=None)
        by_code[code] = [nid for rank, nid in hits if rank == best_rank]
    members: dict[int, list[str]] = defaultdict(list)
    for u, c in zip(usccs, codes, strict=True):
        for nid in by_code.get(c, []):
            members[nid].append(u)
    links: list[tuple[str, int, str]] = []
    masters: set[str] = set()
    chains = {nid for nid, _prefixes, rank in nodes if rank == 0}
    for nid, firms in members.items():
        ranked = sorted(firms, key=lambda u: -(max_out.get(u) or 0.0))
        top = set(ranked[: 2 if len(firms) >= 40 else 1]) if nid in chains else set()  # 链主 lead chains
        masters |= top
        links.extend((u, nid, "chain_master" if u in top else "member") for u in firms)
    return links, masters


def load_demo(
    engine: Engine,
    seed: int = 2024,
    scale: float = 1.0,
    progress: Progress | None = None,
    actor: str = "demo",
    county: DemoCounty = PINGHU,
) -> str:
    """Migrate, load reference data, replace one demo county's firms; return a summary (Chinese / English)."""
    from qunlian.targets.service import load_reference_data

    report = progress or (lambda stage, done, total: None)
    t0 = time.perf_counter()
    report("建库 migrate", 0, STEPS)
    migrate(engine)
    report("生成虚构企业 generate firms", 1, STEPS)
    data = generate(seed + county.seed_offset, scale, calibration=county.calibration)
    with transaction(engine) as session:
        report("载入规划数据 reference data", 2, STEPS)
        load_reference_data(session, actor=actor)
        install_county(session, county)
        region = session.scalars(select(Region).where(Region.code == county.region)).one()
        towns = _towns(session, region.id)
        missing = sorted(set(data.enterprises["town"].to_pylist()) - set(towns))
        if missing:
            raise QunlianError(Message("库中缺少镇(街道) %(missing)s", missing=str(missing)))
        parks = _parks(session, towns, county)
        # chains first: a firm goes to the chains its code is listed in, else to its cluster
        # (a cluster is wider than its chains, e.g. 高端装备 beyond 新能源汽车/机床/航空航天)
        level_rank = {"chain": 0, "cluster": 1}
        nodes = [
            (n.id, [str(c) for c in (n.industry_codes or [])], level_rank[n.level])
            for n in session.scalars(
                select(ChainNode).where(ChainNode.system == county.chain_system, ChainNode.level.in_(tuple(level_rank)))
            )
        ]

        report("清除旧的演示企业 remove previous demo firms", 3, STEPS)
        conn = session.connection()
        mine = (Enterprise.is_demo.is_(True), Enterprise.region_id == region.id)
        old_ids = select(Enterprise.id).where(*mine).scalar_subquery()
        old_uscc = dict(conn.execute(select(Enterprise.id, Enterprise.uscc).where(*mine)).all())
        relink_users = [(uid, old_uscc[eid]) for uid, eid in conn.execute(select(User.id, User.enterprise_id).where(User.enterprise_id.in_(old_ids)))]
        relink_requests = [
            (rid, old_uscc[eid])
            for rid, eid in conn.execute(select(ServiceRequest.id, ServiceRequest.enterprise_id).where(ServiceRequest.enterprise_id.in_(old_ids)))
        ]
        conn.execute(update(User).where(User.enterprise_id.in_(old_ids)).values(enterprise_id=None))
        conn.execute(update(ServiceRequest).where(ServiceRequest.enterprise_id.in_(old_ids)).values(enterprise_id=None))
        for model in BY_USCC:  # 亩均 results and the ledger keep their USCC: linked again below
            conn.execute(update(model).where(model.enterprise_id.in_(old_ids)).values(enterprise_id=None))
        for model in (EnterpriseChainNode, EnterpriseEvent, EnterpriseYear):
            conn.execute(delete(model).where(model.enterprise_id.in_(old_ids)))
        conn.execute(delete(Enterprise).where(*mine))

        # never collide with a real firm's code (astronomically unlikely, but cheap to rule out)
        real = set(conn.execute(select(Enterprise.uscc)).scalars())
        ent = data.enterprises
        if real:
            keep = pc.invert(pc.is_in(ent["uscc"], value_set=pa.array(sorted(real), pa.string())))
            ent = ent.filter(keep)
        links, masters = chain_links(data, nodes)

        report("写入企业 insert enterprises", 4, STEPS)
        for part in _chunks(ent):
            rows = []
            for r in part.to_pylist():
                flags = list(r["flags"]) + (["chain_master"] if r["uscc"] in masters else [])
                rows.append(
                    {
                        "uscc": r["uscc"],
                        "name": r["name"],
                        "town_id": towns[r["town"]],
                        "region_id": region.id,
                        "park_id": parks.get(r["park"]) if r["park"] else None,
                        "industry_code": r["industry_code"],
                        "ownership": r["ownership"],
                        "foreign_investor": r["foreign_investor"],
                        "fortune500_investor": r["fortune500_investor"],
                        "established_on": r["established_on"],
                        "listed": r["listed"],
                        "flags": flags,
                        "is_demo": True,
                    }
                )
            _bulk_insert(conn, Enterprise.__table__, rows)
        ids = dict(conn.execute(select(Enterprise.uscc, Enterprise.id).where(*mine)).all())

        report("写入年度数据 insert enterprise years", 5, STEPS)
        ey = data.enterprise_years
        n_years = 0
        for part in _chunks(ey):
            eids = [ids.get(u) for u in part["uscc"].to_pylist()]
            keys = ["enterprise_id", *YEAR_COLUMNS]
            values = zip(eids, *(part[c].to_pylist() for c in YEAR_COLUMNS), strict=True)
            rows = [dict(zip(keys, v, strict=True)) for v in values if v[0] is not None]
            _bulk_insert(conn, EnterpriseYear.__table__, rows)
            n_years += len(rows)

        report("写入事件与产业链 insert events and chain links", 6, STEPS)
        events = [
            {"enterprise_id": ids[e["uscc"]], "occurred_on": e["occurred_on"], "kind": e["kind"], "description": e["description"], "source": e["source"]}
            for e in data.events.to_pylist()
            if e["uscc"] in ids
        ]
        _bulk_insert(conn, EnterpriseEvent.__table__, events)
        link_rows = [{"enterprise_id": ids[u], "node_id": nid, "role": role, "source": "industry_code"} for u, nid, role in links if u in ids]
        for start in range(0, len(link_rows), CHUNK):
            _bulk_insert(conn, EnterpriseChainNode.__table__, link_rows[start : start + CHUNK])
        for model in BY_USCC:
            conn.execute(
                update(model)
                .where(model.enterprise_id.is_(None), model.uscc.in_(select(Enterprise.uscc).where(*mine)))
                .values(enterprise_id=select(Enterprise.id).where(Enterprise.uscc == model.uscc).scalar_subquery())
            )
        relinked = 0
        for table, pairs in ((User, relink_users), (ServiceRequest, relink_requests)):
            for row_id, uscc in pairs:
                if uscc in ids:
                    conn.execute(update(table).where(table.id == row_id).values(enterprise_id=ids[uscc]))
                    relinked += 1

        cal = calibration_report(data.enterprise_years, scale, county.calibration)
        audit(
            session,
            actor,
            "demo.generate",
            entity="enterprises",
            entity_id=f"{county.key} seed={seed} scale={scale}",
            county=county.region,
            seed=int(seed),
            scale=float(scale),
            calibration=data.calibration_id,
            replaced=len(old_uscc),
            firms=len(ids),
            enterprise_years=n_years,
            events=len(events),
            chain_links=len(link_rows),
            chain_masters=len(masters),
            relinked=relinked,
            figures={r["key"]: r["value"] for r in cal},
        )
    report("完成 done", STEPS, STEPS)
    return summary(data, cal, len(ids), n_years, len(events), len(link_rows), len(masters), time.perf_counter() - t0,
                   len(old_uscc), county)


def _fmt(key: str, v: float) -> str:
    if key == "rd_ratio":
        return f"{v * 100:.2f} %"
    if key in ("above_scale_firms",):
        return f"{v:,.0f}"
    if key.endswith("_wan"):
        return f"{v / 1e4:,.1f} 亿元"
    return f"{v:,.2f}"


def summary(
    data: DemoData,
    cal: list[dict[str, Any]],
    firms: int,
    years: int,
    events: int,
    links: int,
    masters: int,
    seconds: float,
    replaced: int,
    county: DemoCounty = PINGHU,
) -> str:
    ey = data.enterprise_years
    per_year = []
    for y in data.years:
        t = ey.filter(pc.equal(ey["year"], y))
        per_year.append(f"{y}: {pc.sum(t['above_scale']).as_py() or 0}/{t.num_rows}")
    lines = [
        f"演示县 {county.name} 已生成 demo county loaded (seed {data.seed}, scale {data.scale:g}, {data.calibration_id}): "
        f"{firms:,} 家虚构企业 invented firms, {years:,} 条年度数据 enterprise-years, "
        f"{events} 条负面清单事件 negative-list events, {links:,} 条产业链归属 chain links ({masters} 链主 chain masters)"
        + (f"; 替换旧演示企业 replaced {replaced:,}" if replaced else ""),
        "规上/全部企业 above-scale/all firms per year: " + ", ".join(per_year),
        f"{data.years[0] if data.years else ''} 校准 calibration (规上 above-scale; 目标 target ← "
        + ("000 表1" if county is PINGHU else "虚构 invented") + "):",
    ]
    for r in cal:
        lines.append(f"  {r['label']}: {_fmt(r['key'], r['value'])}  目标 target {_fmt(r['key'], r['target'])}  ({r['rel_diff'] * 100:+.2f} %)")
    lines.append(f"用时 elapsed {seconds:.1f} s")
    return "\n".join(lines)


__all__ = ["chain_links", "load_demo", "summary"]
