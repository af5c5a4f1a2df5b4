"""The report's filter form reads what the page shows: a grain, rows or period left unset show
the defaults the report used (by month for a year, by CLC class), not the first choice of each
list (日, 图书馆)."""

import re

import pytest
from django.utils import timezone

pytestmark = pytest.mark.django_db


def selected(html, name):
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select, name
    return re.findall(r'<option value="([^"]*)"[^>]*\bselected\b', select.group(1))


def test_a_year_reads_by_month_and_by_clc_class(client_for, sui_librarian):
    response = client_for(sui_librarian).get("/reports/?period=2026")
    assert response.status_code == 200
    params = response.context["params"]
    assert (params.grain, params.rows) == ("month", "clc_top")
    html = response.content.decode()
    assert selected(html, "grain") == ["month"]
    assert selected(html, "rows") == ["clc_top"]


def test_an_untouched_form_shows_the_period_it_counted(client_for, hubei_reviewer, suixian, zengdu):
    # The province sees two libraries, so 图书馆 is a choice of rows, and still not the one shown.
    response = client_for(hubei_reviewer).get("/reports/")
    html = response.content.decode()
    params = response.context["params"]
    assert selected(html, "grain") == [params.grain]
    assert selected(html, "rows") == ["clc_top"]
    today = timezone.localdate()
    assert f'name="period" value="{today:%Y-%m}"' in html


def test_a_chosen_grain_and_rows_stay_chosen(client_for, sui_librarian):
    html = client_for(sui_librarian).get("/reports/?period=2026&grain=day&rows=site").content
    html = html.decode()
    assert selected(html, "grain") == ["day"]
    assert selected(html, "rows") == ["site"]
