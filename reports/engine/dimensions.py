"""What a report may group and filter by, and the question a report page asks (`Params`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reports.facts import month_start, next_month


class ReportError(ValueError):
    """A request the reports cannot answer as asked; the message says why, in Chinese."""


@dataclass(frozen=True)
class Dimension:
    label: str
    column: str  # in the summary tables and, prefixed f_, in the live facts
    tables: frozenset  # "day", "month", "reader": the summaries that hold it


_ALL = frozenset({"day", "month", "reader"})
DIMENSIONS = {
    "library": Dimension(gettext_lazy("图书馆"), "library_id", _ALL),
    "site": Dimension(gettext_lazy("站点"), "site_id", _ALL),
    "site_kind": Dimension(gettext_lazy("站点类型"), "site_kind", _ALL),
    "consignment": Dimension(gettext_lazy("批次"), "consignment_id", _ALL),
    "clc_top": Dimension(gettext_lazy("中图法大类"), "clc_top", frozenset({"month"})),
    "clc2": Dimension(gettext_lazy("中图法二级类"), "clc2", frozenset({"month"})),
    "category": Dimension(gettext_lazy("读者类型"), "category", frozenset({"month", "reader"})),
    "age_band": Dimension(gettext_lazy("年龄段"), "age_band", frozenset({"month", "reader"})),
    "display": Dimension(gettext_lazy("专架/展柜"), "display_id", frozenset({"day"})),
}
TIMES = {
    "day": gettext_lazy("日"),
    "week": gettext_lazy("周"),
    "month": gettext_lazy("月"),
    "year": gettext_lazy("年"),
}


def check(dims, filters) -> None:
    for name in [*dims, *filters]:
        if name not in DIMENSIONS and name not in TIMES:
            raise ReportError(_("未知的统计维度：%(name)s") % {"name": name})


def time_steps(grain: str, start: date, end: date) -> list[date]:
    """Every period start of `grain` from the one holding `start` to before `end`."""
    if grain == "day":
        first, step = start, lambda d: d + timedelta(days=1)
    elif grain == "week":
        first, step = start - timedelta(days=start.weekday()), lambda d: d + timedelta(days=7)
    elif grain == "month":
        first, step = month_start(start), next_month
    else:
        first, step = date(start.year, 1, 1), lambda d: date(d.year + 1, 1, 1)
    steps, current = [], first
    while current < end:
        steps.append(current)
        current = step(current)
    return steps


@dataclass
class Params:
    """A report page's question: the window, the time grain, the rows and columns of its cross
    table, the filters and, for the holdings, the days without a loan that make a volume idle."""

    start: date
    end: date  # exclusive
    grain: str = "month"
    rows: str = "clc_top"
    cols: str = ""
    filters: dict = field(default_factory=dict)
    idle_days: int = 90
