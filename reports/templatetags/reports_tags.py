from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter
def cells(table, row):
    return list(table.cells(row))


@register.filter
def zip_columns(values, columns):
    return list(zip(values, columns, strict=False))


@register.filter
def figure(value, kind):
    """A number as the tables show it: thousands separated, shares as percentages."""
    if value is None or value == "":
        return "—"
    if kind == "pct":
        return f"{value * 100:.1f}%"
    if kind == "ratio":
        return f"{value:.2f}"
    if kind == "int" and isinstance(value, int):
        return intcomma(value)
    return value


@register.simple_tag
def rollup_cell(row, key):
    value = row.get(key)
    kind = {"turnover": "ratio", "never_share": "pct"}.get(key, "int")
    return figure(value, kind)


@register.simple_tag
def table_rows(table):
    """The body rows of a report table. Built here, not by a template loop: a province's
    class × site heat map has thousands of cells, and a loop of template tags per cell took
    most of that page's time. The shade is `widthratio share 1 10`, as it was; whole numbers
    are grouped as `intcomma` groups them in the page's language, asked once per table."""
    grouped = _grouping()
    rows = []
    for row in table.rows:
        html = []
        for i, (value, column, share) in enumerate(table.cells(row)):
            if i == 0:
                html.append(f'<th scope="row">{conditional_escape(value)}</th>')
                continue
            classes = "num" if column.kind != "text" else ""
            if share is not None:
                classes += f" heat heat-{round(float(share) * 10)}"
                if share > 0.55:
                    classes += " heat-dark"
            if column.kind == "int" and type(value) is int and grouped is not None:
                shown = grouped(value)
            else:
                shown = conditional_escape(figure(value, column.kind))
            html.append(f'<td class="{classes}">{shown}</td>')
        rows.append("<tr>" + "".join(html) + "</tr>")
    return mark_safe("\n".join(rows))  # every value above is escaped


def _grouping():
    """A fast equivalent of `intcomma` for the active language, or None to call it."""
    if intcomma(1234567) == "1234567" and intcomma(-1234) == "-1234":
        return str
    if intcomma(1234567) == "1,234,567" and intcomma(-1234) == "-1,234":
        return "{:,}".format
    return None
