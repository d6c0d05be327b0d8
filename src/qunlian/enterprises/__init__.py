"""Firms and enterprise-years: import/export, lists, the profile."""

from qunlian.platform.registry import Capability, NavEntry

CAPABILITY = Capability(
    name="enterprises",
    title="企业",
    package="qunlian.enterprises",
    models="qunlian.enterprises.models",
    routers=("qunlian.enterprises.web:router", "qunlian.enterprises.history_web:router",
             "qunlian.enterprises.api:router"),
    cli=("qunlian.enterprises.cli:register",),
    nav=(NavEntry("/enterprises", "企业", "firms.read", order=10),),
    docs="import.md",
    sources=("qunlian.enterprises.sources:SOURCES",),
)
