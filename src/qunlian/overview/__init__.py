"""The 驾驶舱 (overview): the figures a leader reads first, per scope."""

from qunlian.platform.registry import Capability, NavEntry

CAPABILITY = Capability(
    name="overview",
    title="驾驶舱",
    package="qunlian.overview",
    routers=("qunlian.overview.web:router",),
    nav=(NavEntry("/", "驾驶舱", None, order=0), NavEntry("/regions", "地区对比", "regions.compare", order=15)),
    docs="web.md",
)
