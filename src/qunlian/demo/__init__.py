"""The demo county: the seeds' real plan data plus invented firms calibrated to published aggregates.

- `qunlian.demo.generator`: `generate(seed, scale)`, `generate_enterprise_years(seed, scale, year)`,
  `aggregates(table, year)` — pure, vectorised (numpy + pyarrow).
- `qunlian.demo.load`: `load_demo(engine, seed, scale, progress)` — into the store, one transaction.
- `qunlian.demo.names`: invented names and the real names they must never use.
- `calibration.yaml`: the published targets with their citation, and the invented shapes.
"""

from qunlian.platform.registry import Capability

CAPABILITY = Capability(
    name="demo",
    title="演示县",
    package="qunlian.demo",
    cli=("qunlian.demo.cli:register",),
    docs="demo.md",
    templates=False,
)
