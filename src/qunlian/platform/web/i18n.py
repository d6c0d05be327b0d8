"""The UI's message catalogue. Chinese is the source language (msgids are the Chinese text);
English is a translation of it. A message missing from a catalogue falls back to the Chinese.

The language is chosen by the `lang` cookie (set by POST /lang); Chinese is the default.
"""

from __future__ import annotations

from collections.abc import Callable

from qunlian.platform.web import i18n_imports, i18n_muni, i18n_targets

COOKIE = "lang"
DEFAULT = "zh"
LANGUAGES = ("zh", "en")

EN: dict[str, str] = {
    # frame and navigation
    "群链": "Qunlian",
    "群链 制造业集群与产业链治理平台": "Qunlian · manufacturing clusters and industrial chains",
    "群链 qunlian · 所有资源由本系统提供，不连接外网": "qunlian · every asset is served by this system; no external network",
    "导航": "Navigation",
    "驾驶舱": "Overview",
    "企业": "Enterprises",
    "镇街道": "Towns",
    "产业链": "Chains",
    "用户": "Users",
    "接口文档": "API docs",
    "退出": "Log out",
    "图表与局部刷新所需的前端资源尚未安装：请运行 scripts/web-assets.sh。":
        "The browser assets for charts and partial updates are not installed: run scripts/web-assets.sh.",
    # roles
    "系统管理员": "Administrator",
    "分析人员": "Analyst",
    "部门": "Department",
    # login
    "登录": "Log in",
    "用户名": "Username",
    "密码": "Password",
    "用户名或密码错误，或账号已停用。": "Wrong username or password, or the account is disabled.",
    "登录失败次数过多，请 {m} 分钟后再试。": "Too many failed logins. Try again in {m} minute(s).",
    "系统中还没有用户。请在服务器上创建第一个管理员：": "There are no users yet. Create the first administrator on the server:",
    "或在载入演示数据后运行 qunlian users demo 生成每个角色的演示账号。":
        "or, after loading the demo data, run qunlian users demo to create a demo login for every role.",
    # errors
    "返回驾驶舱": "Back to the overview",
    "错误": "Error",
    "请求无法完成。": "The request could not be completed.",
    "请求有误": "Bad request",
    "请求参数不合法，请检查链接或表单。": "Invalid request parameters; check the link or form.",
    "需要登录": "Login required",
    "请先登录。": "Please log in first.",
    "无权访问": "Forbidden",
    "您没有权限执行此操作；若是表单提交，请刷新页面后重试（安全令牌已过期）。":
        "You may not do this; if you submitted a form, reload the page and try again (its security token expired).",
    "安全令牌（CSRF）缺失或不匹配：请刷新页面后重新提交。":
        "The security token (CSRF) is missing or wrong: reload the page and submit again.",
    "未找到": "Not found",
    "没有找到该页面或记录，或它不在您的查看范围内。": "No such page or record, or it is outside what you may see.",
    "方法不允许": "Method not allowed",
    "不支持该请求方法。": "This request method is not supported.",
    "请求过多": "Too many requests",
    "请求过于频繁，请稍后再试。": "Too many requests; try again later.",
    "系统错误": "Server error",
    "系统出现错误，已记录。请稍后再试或联系管理员。": "Something went wrong and was logged. Try again later or contact the administrator.",
    # overview
    "本页列出库中已载入的数据；企业数据只统计您有权查看的范围：":
        "What the store holds; enterprise figures count only what you may see:",
    "库中还没有数据。": "The store holds no data yet.",
    "在服务器上运行以下命令载入：": "Load it by running on the server:",
    "建库并载入规划、镇街道与产业链体系": "create the store and load plans, towns and chain systems",
    "生成演示县（虚构企业）": "generate the demo county (invented firms)",
    "导入真实企业数据（Excel/CSV）": "import real enterprise data (Excel/CSV)",
    "规划": "Plans",
    "企业（范围内）": "Enterprises (in scope)",
    "产业链体系": "Chain systems",
    "代码": "Code",
    "标题": "Title",
    "期间": "Period",
    "指标数（个）": "Indicators",
    "尚未载入规划：运行 qunlian init。": "No plans loaded yet: run qunlian init.",
    "企业数（按年份、规上/规下）": "Enterprises by year, above / below designated size",
    "年份": "Year",
    "规上（家）": "Above size (firms)",
    "规下（家）": "Below size (firms)",
    "未标注（家）": "Not marked (firms)",
    "合计（家）": "Total (firms)",
    "范围内还没有企业年度数据：运行 qunlian demo 或 qunlian import。":
        "No enterprise figures in your scope yet: run qunlian demo or qunlian import.",
    "名称": "Name",
    "类型": "Kind",
    "企业（家）": "Enterprises (firms)",
    "尚未载入镇街道：运行 qunlian init。": "No towns loaded yet: run qunlian init.",
    "体系": "System",
    "节点（个）": "Nodes",
    "尚未载入产业链体系：运行 qunlian init。": "No chain systems loaded yet: run qunlian init.",
    "全市 city-wide": "city-wide",
    # enterprises
    "名称或信用代码": "Name or USCC",
    "搜索": "Search",
    "全部": "All",
    "规模": "Size",
    "规上": "Above size",
    "规下": "Below size",
    "查询": "Search",
    "共 {n} 家企业，{year} 年数据": "{n} enterprises, figures of {year}",
    "导出 Excel": "Export to Excel",
    "统一社会信用代码": "USCC",
    "企业名称": "Enterprise",
    "行业代码": "Industry code",
    "用地（亩）": "Land (mu)",
    "产值（万元）": "Output (10k yuan)",
    "税收（万元）": "Tax (10k yuan)",
    "亩均产值（万元/亩）": "Output per mu (10k yuan/mu)",
    "亩均税收（万元/亩）": "Tax per mu (10k yuan/mu)",
    "上一页": "Previous",
    "下一页": "Next",
    "没有符合条件的企业（只显示您有权查看的企业）。": "No matching enterprises (only those you may see are shown).",
    # enterprise profile
    "企业画像": "Enterprise profile",
    "演示数据（虚构）": "demo data (invented)",
    "基本信息": "Identity",
    "园区": "Park",
    "行业（GB/T 4754-2017）": "Industry (GB/T 4754-2017)",
    "经济类型": "Ownership",
    "成立日期": "Established",
    "上市": "Listed",
    "是": "yes",
    "否": "no",
    "产业链节点": "Chain nodes",
    "链主": "chain master",
    "未关联产业链节点。": "Not linked to any chain node.",
    "亩均产值与亩均税收（万元/亩）": "Output and tax per mu (10k yuan/mu)",
    "产值 万元/亩": "output 10k yuan/mu",
    "税收 万元/亩": "tax 10k yuan/mu",
    "年度数据": "Figures by year",
    "还没有年度数据。": "No yearly figures yet.",
    "指标": "Figure",
    "规上/规下": "Above / below size",
    "出租用地（亩）": "Land rented out (mu)",
    "营业收入（万元）": "Revenue (10k yuan)",
    "主营业务收入（万元）": "Main business revenue (10k yuan)",
    "增加值（万元）": "Value added (10k yuan)",
    "利润（万元）": "Profit (10k yuan)",
    "研发经费（万元）": "R&D spending (10k yuan)",
    "出口额（万元）": "Exports (10k yuan)",
    "高新技术产品收入（万元）": "High-tech product revenue (10k yuan)",
    "资产（万元）": "Assets (10k yuan)",
    "负债（万元）": "Liabilities (10k yuan)",
    "综合能耗（吨标准煤）": "Energy use (t standard coal)",
    "用电量（万千瓦时）": "Electricity (10k kWh)",
    "排放当量（吨）": "Emissions (t equivalent)",
    "从业人员（人）": "Employees (persons)",
    "发明专利（件）": "Invention patents",
    # towns
    "示意图": "Schematic",
    "按规划附件顺序排列的示意图，不代表地理位置；数字为您有权查看的企业数（家）。":
        "A schematic in the plan's order, not a geographic map; numbers are the firms you may see.",
    "家": "firms",
    "区划代码": "Division code",
    "汇总（您有权查看的企业）": "Totals (enterprises you may see)",
    "亩均指标只计报有用地面积的企业。": "Per-mu figures count only firms that report land.",
    "您的范围内该镇街道没有企业数据。": "No enterprise figures of this town in your scope.",
    "查看全部 {n} 家": "See all {n}",
    "街道": "subdistrict",
    "镇": "town",
    "开发区": "development zone",
    # chains
    "层级": "Levels",
    "节点": "Node",
    "关联企业（家）": "Linked firms",
    "按行业代码匹配（家）": "Matched by industry code (firms)",
    "关联企业按行业代码": "Linked firms by industry code",
    "关联企业：与节点或其下级节点关联的企业数（家，只计您有权查看的企业）；按行业代码匹配：行业代码落在节点所列 GB/T 4754 代码下的企业数（家）。":
        "Linked firms: firms linked to the node or a node below it (only those you may see); matched by "
        "industry code: firms whose code falls under the node's GB/T 4754 codes.",
    "集群": "cluster",
    "环节": "segment",
    "重点": "key",
    "孵化": "incubating",
    "先导": "leading",
    "主导": "pillar",
    "优势": "advantage",
    "未来": "future",
    # users
    "角色": "Role",
    "范围": "Scope",
    "状态": "Status",
    "已停用": "disabled",
    "启用": "active",
    "停用": "Disable",
    "新增用户": "Add a user",
    "新增": "Add",
    "镇街道（角色 town）": "Town (role town)",
    "产业链（角色 chain，体系:代码）": "Chain (role chain, system:code)",
    "统一社会信用代码（角色 enterprise）": "USCC (role enterprise)",
    "部门（角色 department）": "Department (role department)",
    "国有": "state-owned",
    "集体": "collective",
    "民营": "private",
    "联营": "joint venture",
    "外商投资": "foreign-invested",
    "港澳台投资": "Hong Kong, Macao or Taiwan-invested",
    "访问授权": "Access grants",
    "部门用户只能经授权只读查看企业数据（全市、一个镇街道或一条产业链），须写明事由，可设到期日；撤销立即生效。":
        "Department users see enterprise data only through a grant (read-only: all firms, one town's or one "
        "chain's), given with a reason and an optional end date; a revocation takes effect at once.",
    "事由": "Reason",
    "到期日": "Until",
    "授权人": "Granted by",
    "有效": "active",
    "已撤销": "revoked",
    "已到期": "expired",
    "撤销": "Revoke",
    "还没有访问授权。": "No access grants yet.",
    "部门用户": "Department user",
    "全市企业": "All firms",
    "镇街道（范围 town）": "Town (scope town)",
    "产业链（范围 chain，体系:代码）": "Chain (scope chain, system:code)",
    "到期日（可空）": "Until (optional)",
    "授权": "Grant",
    "先新增角色为 department 的用户，再给其授权。": "Add a user with the role department first, then grant it access.",
}

# Each capability's pages keep their English entries in web/i18n_<capability>.py.
for _extra in (i18n_muni.EN, i18n_targets.EN, i18n_imports.EN):
    EN.update(_extra)

CATALOGUES: dict[str, dict[str, str]] = {"zh": {}, "en": EN}


def translator(lang: str) -> Callable[[str], str]:
    catalogue = CATALOGUES.get(lang, {})

    def _(message: str) -> str:
        return catalogue.get(message, message)

    return _
