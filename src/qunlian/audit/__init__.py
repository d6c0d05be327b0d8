"""The audit log as people read it: the admin page (/audit, filters, the chain's status), `qunlian audit
verify|list`, and `qunlian backup|restore` (the store's one-file backups, checked against the chain).

The log itself — the table, `db.audit()` that every write calls, the hash chain and its check — is the
platform's (`qunlian.platform.auditlog`); backups are `qunlian.platform.backup`.
"""

from qunlian.platform.registry import Capability, NavEntry

CAPABILITY = Capability(
    name="audit",
    title="审计日志",
    package="qunlian.audit",
    routers=("qunlian.audit.web:router",),
    cli=("qunlian.audit.cli:register",),
    nav=(NavEntry("/audit", "审计日志", "audit.read", order=85),),
    docs="audit.md",
)
