"""数据交换: the templates of every data source, the one import pipeline (upload → preview of every
changed value → confirm → batch with provenance, or a validation report to fix and re-upload), and
the history of imported figures. The file formats themselves are the platform's one reader
(``platform.tabular``) and one writer (``platform.tabular_out``); each source and its importer are
declared by the capability that owns the data (``Capability.sources``)."""

from qunlian.platform.registry import Capability, NavEntry

CAPABILITY = Capability(
    name="exchange",
    title="数据交换",
    package="qunlian.exchange",
    routers=("qunlian.exchange.web:router",),
    cli=("qunlian.exchange.cli:register",),
    nav=(NavEntry("/imports", "数据导入", "imports.run", order=70),),
    docs="import.md",
)
