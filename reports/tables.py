"""Report tables: what a page shows beside its chart, what the exports write, and the figures a
period report freezes. A table is plain data (labels, numbers) so that it serialises to JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from django.utils.translation import gettext as _

from circulation.models import Patron
from collections_app.models import ClcClass, Consignment, Display, Library, Site
from reports.engine.dimensions import DIMENSIONS
from reports.models import AgeBand

TEXT, INT, PCT, RATIO = "text", "int", "pct", "ratio"


@dataclass
class Column:
    label: str
    kind: str = INT


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list] = field(default_factory=list)
    total: list | None = None
    heat: bool = False  # a cross table drawn as a heat map
    chart: str = ""  # "bar", "line" or "" (none)
    note: str = ""

    @property
    def headers(self) -> list[str]:
        return [column.label for column in self.columns]

    def cells(self, row):
        """(value, column, heat share) for each cell of `row`."""
        top = self.heat_max
        for value, column in zip(row, self.columns, strict=False):
            share = value / top if self.heat and column.kind == INT and top else None
            yield value, column, share

    @cached_property
    def heat_max(self) -> int:
        if not self.heat:
            return 0
        numbers = [
            value
            for row in self.rows
            for value, column in zip(row[1:-1], self.columns[1:-1], strict=False)
            if column.kind == INT and isinstance(value, int)
        ]
        return max(numbers, default=0)

    def chart_data(self, *, series_columns=None) -> dict:
        """Labels from the first column, one dataset per numeric column (or those asked)."""
        indexes = series_columns or [
            i for i, column in enumerate(self.columns) if i and column.kind == INT
        ]
        return {
            "labels": [str(row[0]) for row in self.rows],
            "datasets": [
                {"label": self.columns[i].label, "data": [row[i] for row in self.rows]}
                for i in indexes
            ],
        }

    def export_rows(self):
        def shown(value, column):
            if value is None:
                return ""
            if column.kind == PCT:
                return f"{value * 100:.1f}%"
            if column.kind == RATIO:
                return f"{value:.2f}"
            return value

        for row in self.rows:
            yield [shown(v, c) for v, c in zip(row, self.columns, strict=False)]
        if self.total:
            yield [shown(v, c) for v, c in zip(self.total, self.columns, strict=False)]

    def as_json(self) -> dict:
        return {
            "key": self.key,
            "title": str(self.title),
            "columns": [[str(c.label), c.kind] for c in self.columns],
            "rows": self.rows,
            "total": self.total,
        }

    @classmethod
    def from_json(cls, data) -> Table:
        return cls(
            key=data["key"],
            title=data["title"],
            columns=[Column(label, kind) for label, kind in data["columns"]],
            rows=data["rows"],
            total=data["total"],
        )


def ratio(part, whole):
    return round(part / whole, 4) if whole else None


def cross_table(counts, rows_dim, cols_dim, labels, *, key, title, value_label) -> Table:
    """A table of `rows_dim` × `cols_dim` (or × one column of counts and its share) with
    totals, from counts keyed (row value, column value) or (row value,)."""
    if not cols_dim:
        total = sum(counts.values())
        table = Table(
            key,
            title,
            [
                Column(str(DIMENSIONS[rows_dim].label), TEXT),
                Column(value_label),
                Column(_("占比"), PCT),
            ],
            chart="bar",
        )
        for value in labels.order(rows_dim, {k[0] for k in counts}):
            n = counts[(value,)]
            table.rows.append([labels(rows_dim, value), n, ratio(n, total)])
        table.total = [_("合计"), total, 1.0 if total else None]
        return table
    row_values = labels.order(rows_dim, {k[0] for k in counts})
    col_values = labels.order(cols_dim, {k[1] for k in counts})
    columns = [Column(f"{DIMENSIONS[rows_dim].label} \\ {DIMENSIONS[cols_dim].label}", TEXT)]
    columns += [Column(labels(cols_dim, value)) for value in col_values]
    columns.append(Column(_("合计")))
    table = Table(key, title, columns, heat=True)
    for row_value in row_values:
        cells = [counts.get((row_value, c), 0) for c in col_values]
        table.rows.append([labels(rows_dim, row_value), *cells, sum(cells)])
    totals = [sum(counts.get((r, c), 0) for r in row_values) for c in col_values]
    table.total = [_("合计"), *totals, sum(totals)]
    return table


class Labels:
    """Display names of dimension values, fetched once per request for the values shown."""

    def __init__(self):
        self._cache: dict = {}

    def _names(self, name):
        if name not in self._cache:
            if name == "library":
                names = dict(Library.objects.values_list("pk", "name"))
            elif name == "site":
                names = dict(Site.objects.values_list("pk", "name"))
            elif name == "consignment":
                names = {
                    pk: _("%(name)s（%(kind)s）") % {"name": reference, "kind": library}
                    for pk, reference, library in Consignment.objects.values_list(
                        "pk", "reference", "library__name"
                    )
                }
            elif name == "display":
                names = dict(Display.objects.values_list("pk", "name"))
            elif name in ("clc_top", "clc2"):
                level = 1 if name == "clc_top" else 2
                names = {
                    clc.code: f"{clc.code} {clc.name}"
                    for clc in ClcClass.objects.filter(level=level).only(
                        "code", "name_zh", "name_en"
                    )
                }
            elif name == "site_kind":
                names = dict(Site.Kind.choices)
            elif name == "category":
                names = dict(Patron.Category.choices)
            elif name == "age_band":
                names = dict(AgeBand.choices)
            else:
                names = {}
            self._cache[name] = names
        return self._cache[name]

    def __call__(self, name, value) -> str:
        if name == "day":
            return value.isoformat()
        if name == "week":
            return _("%(day)s 起一周") % {"day": value.isoformat()}
        if name == "month":
            return value.strftime("%Y-%m")
        if name == "year":
            return str(value.year)
        if value in (None, ""):
            if name == "clc2":
                return _("未细分")
            if name == "display":
                return _("不在专架")
            return _("未分类")
        return str(self._names(name).get(value, value))

    def order(self, name, values):
        """Values in reading order: sites by kind then code, choices in their own order."""
        values = list(values)
        if name == "site":
            order = {
                pk: n
                for n, pk in enumerate(
                    Site.objects.filter(pk__in=[v for v in values if v])
                    .order_by("library__code", "kind", "code")
                    .values_list("pk", flat=True)
                )
            }
            return sorted(values, key=lambda v: order.get(v, 10**9))
        choices = {
            "site_kind": [Site.Kind.CENTRAL, Site.Kind.BRANCH, Site.Kind.SERVICE_POINT],
            "category": [c for c, _label in Patron.Category.choices],
            "age_band": [c for c, _label in AgeBand.choices],
        }.get(name)
        if choices:
            return sorted(values, key=lambda v: choices.index(v) if v in choices else 99)
        return sorted(values, key=lambda v: (v is None or v == "", v if v is not None else ""))
