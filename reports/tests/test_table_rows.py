"""A report table's body is written by the `table_rows` tag (thousands of heat-map cells at a
province): the same cells, classes, shades and escaping as the template loop it replaced."""

import re

from django.contrib.humanize.templatetags.humanize import intcomma
from django.template import Context, Template
from django.template.loader import render_to_string
from django.utils import translation

from reports.tables import INT, PCT, RATIO, TEXT, Column, Table

# The loop the tag replaced, kept here as the reference it must match.
TEMPLATE_LOOP = Template(
    "{% load reports_tags %}{% for row in table.rows %}<tr>"
    "{% for value, column, share in table|cells:row %}"
    '{% if forloop.first %}<th scope="row">{{ value }}</th>'
    "{% else %}<td class=\"{% if column.kind != 'text' %}num{% endif %}"
    "{% if share is not None %} heat heat-{% widthratio share 1 10 %}"
    '{% if share > 0.55 %} heat-dark{% endif %}{% endif %}">'
    "{{ value|figure:column.kind }}</td>{% endif %}"
    "{% endfor %}</tr>{% endfor %}"
)


def _tags(html):
    body = html.split("<tbody>")[-1].split("</tbody>")[0]
    return re.sub(r">\s+<", "><", body.strip())


def _table(heat):
    columns = [Column("类", TEXT), *(Column(f"站{n}", INT) for n in range(7))]
    columns += [Column("占比", PCT), Column("周转", RATIO), Column("备注", TEXT)]
    rows = [
        [f"<b>K{n}</b> & 历史", *(n * k * 37 + k for k in range(7)), n / 7, n * 1.2345, ""]
        for n in range(12)
    ]
    rows.append(["空", 0, 0, 1, 2, 3, 4, 1_234_567, None, None, "x"])
    return Table(key="t", title="表", columns=columns, rows=rows, heat=heat)


def test_the_tag_writes_the_cells_the_template_loop_wrote():
    for heat in (True, False):
        table = _table(heat)
        page = render_to_string("reports/_table.html", {"table": table})
        assert _tags(page) == _tags(TEMPLATE_LOOP.render(Context({"table": table})))
        assert "&lt;b&gt;K1&lt;/b&gt; &amp; 历史" in page
        assert ("heat-dark" in page) is heat
        assert intcomma(1_234_567) in page  # grouped as the language groups


def test_an_empty_table_says_there_is_nothing():
    table = Table(key="t", title="表", columns=[Column("类", TEXT), Column("册", INT)])
    assert "empty" in render_to_string("reports/_table.html", {"table": table})


def test_numbers_are_grouped_as_the_language_groups_them():
    table = _table(heat=True)
    for language in ("zh-hans", "en"):
        with translation.override(language):
            page = render_to_string("reports/_table.html", {"table": table})
            assert _tags(page) == _tags(TEMPLATE_LOOP.render(Context({"table": table})))
            assert intcomma(1_234_567) in page
