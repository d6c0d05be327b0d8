"""The enterprises capability's public service: what other capabilities may use of it."""

# the one vocabulary of enterprise-year columns and the parsing of their cells (the engines'
# standalone readers use them as the importer does)
from qunlian.enterprises import columns, values
from qunlian.enterprises.figures import YearAggregate, aggregate_years, per_mu, scale_counts
from qunlian.enterprises.queries import (
    FIGURES,
    MAX_PAGE_SIZE,
    SORTS,
    EnterprisePage,
    EnterpriseQuery,
    enterprise_profile,
    enterprise_row,
    list_enterprises,
    scoped_years,
)
from qunlian.enterprises.scoping import (
    enterprise_filter,
    enterprise_year_filter,
    get_enterprise,
    in_region,
    scoped_enterprises,
)

__all__ = [
    "FIGURES", "MAX_PAGE_SIZE", "SORTS", "EnterprisePage", "EnterpriseQuery", "YearAggregate", "aggregate_years",
    "enterprise_filter", "enterprise_profile", "enterprise_row", "enterprise_year_filter", "get_enterprise", "in_region",
    "list_enterprises", "per_mu", "scale_counts", "scoped_enterprises", "scoped_years",
    "columns", "values",
]
