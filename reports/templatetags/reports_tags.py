from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

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
