"""The numbers a person types into the 亩均 pages and commands, and what each accepts (checked by
``qunlian.platform.numbers``, one validator for forms, API fields and CLI options)."""

from __future__ import annotations

from qunlian.core.messages import N_
from qunlian.enterprises.service import columns
from qunlian.platform.numbers import NumberField

#: a manual class adjustment (加减分), either way, within the plausible range of points
POINTS = NumberField(N_("加减分"), unit="分")
#: how close to a class line a firm is flagged (预警 临界企业)
MARGIN = NumberField(N_("距分数线的分差"), unit="分", minimum=0)

#: the figures the simulator lets a user change; a firm's figure is not negative
SIMULATED = ("tax_wan", "value_added_wan", "land_mu", "energy_tce", "emission_eq_t", "rd_wan", "main_revenue_wan",
             "electricity_wan_kwh", "employees")


def figure(name: str) -> NumberField:
    """The field of one enterprise-year figure (a column of ``enterprises.columns``): its unit, not negative."""
    col = columns.lookup(name, engine=True)
    if col is None:
        return NumberField(name, minimum=0)
    return NumberField(col.label, unit=col.unit, minimum=0)
