"""产业链: industry systems (四群八链, "1212") and the firms on their nodes."""

from qunlian.platform.registry import Capability, NavEntry

CAPABILITY = Capability(
    name="chains",
    title="产业链",
    package="qunlian.chains",
    models="qunlian.chains.models",
    routers=("qunlian.chains.web:router",),
    nav=(NavEntry("/chains", "产业链", None, order=30),),
    docs="web.md",
)
