"""The demand report's monthly rollups: the same figures read from the rollups (months the
refresh summed) and the counters (the months after), for every actor and filter; a search
dated back into a summed month counted at once."""

from datetime import date

import pytest
import time_machine

from accounts.scope import LoanScope
from reports.engine.searches import search_counts, top_queries
from reports.facts import refresh_report_tables, summarised_until
from reports.models import DemandMonth, DemandSearch, DemandSiteMonth
from reports.pages.demand import period_tables
from reports.tests.helpers import at, count_search

pytestmark = pytest.mark.django_db
URL = "/reports/demand/"
YEAR = (date(2026, 1, 1), date(2027, 1, 1))


count = count_search


@pytest.fixture(autouse=True)
def november():
    """Today is 20 November 2026: January to October can be summed, November is live."""
    with time_machine.travel(at("2026-11-20 12:00"), tick=False):
        yield


@pytest.fixture
def demand(suixian, sui_central, xiaolin_site, zengdu, zengdu_central):
    count(suixian, "三体", when="2026-01-03 10:00", site=xiaolin_site, clc="I", times=3)
    count(suixian, "三体", when="2026-10-03 10:00", site=sui_central, clc="I")
    count(suixian, "量子力学", when="2026-01-04 10:00", site=sui_central, clc="O", times=2)
    count(suixian, "活着", when="2026-10-05 10:00", site=xiaolin_site, outcome="queued")
    count(suixian, "不存在的书", when="2026-10-06 10:00")  # no site, no class
    count(zengdu, "曾都秘籍", when="2026-10-06 10:00", site=zengdu_central, times=7)
    # November: read live from the counters after the refresh too.
    count(suixian, "量子力学", site=xiaolin_site, clc="O", times=3)
    count(suixian, "活着", site=sui_central, outcome="queued", times=2)


def pages(client_for, users, queries):
    """Every table of the page, for each user and query string."""
    shown = {}
    for user in users:
        client = client_for(user)
        for query in queries:
            response = client.get(URL, {"period": "2026", **query})
            tables = response.context["tables"]
            shown[(user.username, tuple(query.items()))] = (
                response.status_code,
                [(t.rows, t.total) for t in tables],
            )
    return shown


def test_the_report_reads_the_same_figures_from_the_rollups_as_from_the_counters(
    demand,
    client_for,
    sui_librarian,
    xiaolin_volunteer,
    hubei_reviewer,
    nlc_lender,
    suixian,
    xiaolin_site,
):
    users = [sui_librarian, xiaolin_volunteer, hubei_reviewer, nlc_lender]
    filters = [{}, {"site": xiaolin_site.pk}, {"clc_top": "I"}, {"library": suixian.pk}]
    live = pages(client_for, users, filters)
    answered = [key for key, (status, tables) in live.items() if status == 200 and tables]
    assert len(answered) >= 10, live.keys() - set(answered)
    frozen = period_tables(suixian, *YEAR)

    refresh_report_tables()

    assert summarised_until("demand") == date(2026, 11, 1)
    assert DemandMonth.objects.exists() and DemandSiteMonth.objects.exists()
    assert pages(client_for, users, filters) == live
    after = period_tables(suixian, *YEAR)
    assert [(t.rows, t.total) for t in after] == [(t.rows, t.total) for t in frozen]


def test_the_most_sought_queries_rank_summed_and_live_months_together(demand, suixian):
    refresh_report_tables()
    scope = LoanScope.for_library(suixian)
    top = top_queries(scope, *YEAR, limit=10)
    # 量子力学: 2 searches in January (summed) and 3 this month (live).
    assert [(row["query"], row["total"]) for row in top] == [
        ("量子力学", 5),
        ("三体", 4),
        ("活着", 3),
        ("不存在的书", 1),
    ]
    rows = DemandSearch.objects.filter(library=suixian)
    assert sum(row["total"] for row in top) == sum(rows.values_list("searches", flat=True))
    assert top_queries(scope, *YEAR, limit=2) == top[:2]


def test_a_search_dated_back_into_a_summed_month_counts_at_once(demand, suixian, sui_central):
    refresh_report_tables()
    scope = LoanScope.for_library(suixian)
    before = search_counts(scope, *YEAR)[()]["total"]

    count(suixian, "三体", when="2026-01-20 10:00", site=sui_central, clc="I", times=4)

    assert summarised_until("demand") == date(2026, 1, 1)
    assert search_counts(scope, *YEAR)[()]["total"] == before + 4
    assert top_queries(scope, *YEAR, limit=1)[0]["query"] == "三体"
    refresh_report_tables()
    assert summarised_until("demand") == date(2026, 11, 1)
    summed = DemandMonth.objects.filter(library=suixian, query="三体")
    assert sum(summed.values_list("searches", flat=True)) == 3 + 1 + 4
    assert search_counts(scope, *YEAR)[()]["total"] == before + 4


def test_a_search_of_this_month_does_not_touch_the_reach(demand, suixian):
    refresh_report_tables()
    reach = summarised_until("demand")
    count(suixian, "新书", clc="I")
    assert summarised_until("demand") == reach
