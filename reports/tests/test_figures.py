"""Report figures against independent counts made here from the loans themselves: crafted cases
(a loan across a month boundary, a return at another site, a volume moved mid-period), the
summary and live paths side by side, and the demo data."""

from collections import Counter
from datetime import date

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from accounts.scope import LoanScope
from circulation.models import Loan, Patron
from collections_app.models import ItemEvent
from collections_app.services.items import item_transition
from conftest import make_item
from jobs.models import Job
from reports.engine.holdings import item_counts
from reports.engine.loans import loan_counts
from reports.engine.plan import plan
from reports.engine.readers import reader_counts
from reports.facts import refresh_report_tables
from reports.models import LoanDay, LoanMonth, ReaderMonth
from reports.tests.helpers import at, lend, make_patron

pytestmark = pytest.mark.django_db
MAY, JUNE = (date(2026, 5, 1), date(2026, 6, 1)), (date(2026, 6, 1), date(2026, 7, 1))


@pytest.fixture
def county(suixian, sui_central, sui_branch, xiaolin_site, sui_consignment):
    books = [
        make_item(sui_consignment, sui_central, f"NL1000000{n}", clc=clc)
        for n, clc in enumerate(["I247.5", "K825.6", "TP311", "I247.5"])
    ]
    child = make_patron(suixian, xiaolin_site, "C1", Patron.Category.CHILD, birth_year=2019)
    adult = make_patron(suixian, sui_central, "A1", Patron.Category.ADULT, birth_year=1980)
    return {"books": books, "child": child, "adult": adult}


def both_ways(check):
    """Run `check` on live counts, then again after the summary tables are built."""
    check()
    refresh_report_tables(until=date(2026, 7, 1))
    assert LoanMonth.objects.exists()
    check()


def test_a_loan_across_a_month_boundary_counts_once_in_the_month_it_was_checked_out(
    county, sui_central
):
    book, reader = county["books"][0], county["adult"]
    # 23:30 on 31 May in Shanghai is 15:30 UTC: still May locally.
    lend(book, reader, sui_central, "2026-05-31 23:30", returned="2026-06-02 10:00")

    def check():
        assert sum(loan_counts(LoanScope(), *MAY).values()) == 1
        assert sum(loan_counts(LoanScope(), *JUNE).values()) == 0
        assert loan_counts(LoanScope(), *MAY, ["day"]) == {(date(2026, 5, 31),): 1}
        assert reader_counts(LoanScope(), *JUNE, ["month"]) == {}

    both_ways(check)


def test_a_return_at_another_site_leaves_the_loan_at_its_checkout_site(
    county, sui_central, xiaolin_site
):
    book, reader = county["books"][1], county["child"]
    lend(
        book,
        reader,
        xiaolin_site,
        "2026-06-03 09:00",
        returned="2026-06-10 09:00",
        return_site=sui_central,
    )

    def check():
        by_site = loan_counts(LoanScope(), *JUNE, ["site"])
        assert by_site == {(xiaolin_site.pk,): 1}
        assert loan_counts(LoanScope(), *JUNE, ["clc2", "age_band"]) == {("K81", "7-12"): 1}

    both_ways(check)


def test_a_volume_moved_mid_period_counts_at_each_site_where_it_was_lent(
    county, sui_central, xiaolin_site
):
    book, child, adult = county["books"][2], county["child"], county["adult"]
    lend(book, adult, sui_central, "2026-06-02 10:00", returned="2026-06-09 10:00")
    # Rotated on 12 June, through the one door that keeps the holdings summary.
    item_transition(items=[book], kind=ItemEvent.Kind.ARRIVED, to_site=xiaolin_site)
    lend(book, child, xiaolin_site, "2026-06-15 10:00", returned="2026-06-20 10:00")
    lend(book, child, xiaolin_site, "2026-06-22 10:00")

    def check():
        expected = Counter(
            (loan.site_id, loan.item.title.clc_top)
            for loan in Loan.objects.filter(item=book).select_related("item__title")
        )
        assert loan_counts(LoanScope(), *JUNE, ["site", "clc_top"]) == expected
        assert item_counts(LoanScope(), ["site"], {"clc_top": "T"}) == {
            (xiaolin_site.pk,): {"held": 1, "never": 1, "idle": 0}
        }

    both_ways(check)


def test_readers_are_counted_once_over_a_period_however_many_months_they_borrow(
    county, sui_central
):
    books, reader = county["books"], county["adult"]
    lend(books[0], reader, sui_central, "2026-05-04 10:00", returned="2026-05-05 10:00")
    lend(books[1], reader, sui_central, "2026-05-04 11:00", returned="2026-05-08 10:00")
    lend(books[2], reader, sui_central, "2026-06-04 10:00")
    lend(books[3], county["child"], sui_central, "2026-06-05 10:00")

    def check():
        months = reader_counts(LoanScope(), date(2026, 5, 1), date(2026, 7, 1), ["month"])
        assert months[(date(2026, 5, 1),)] == {"readers": 1, "visits": 1, "loans": 2}
        assert months[(date(2026, 6, 1),)] == {"readers": 2, "visits": 2, "loans": 2}
        total = reader_counts(LoanScope(), date(2026, 5, 1), date(2026, 7, 1))
        assert total == {(): {"readers": 2, "visits": 3, "loans": 4}}

    both_ways(check)


def test_a_half_summarised_month_adds_the_live_days_to_the_summary(county, sui_central):
    books, reader = county["books"], county["adult"]
    lend(books[0], reader, sui_central, "2026-06-03 10:00", returned="2026-06-05 10:00")
    refresh_report_tables(until=date(2026, 6, 10))
    lend(books[1], reader, sui_central, "2026-06-12 10:00")
    lend(books[2], county["child"], sui_central, "2026-06-12 11:00")

    assert plan(*JUNE, date(2026, 6, 10), monthly=True) == [
        ("summary", date(2026, 6, 1), date(2026, 6, 10)),
        ("live", date(2026, 6, 10), date(2026, 7, 1)),
    ]
    assert sum(loan_counts(LoanScope(), *JUNE, ["clc_top"]).values()) == 3
    assert reader_counts(LoanScope(), *JUNE) == {(): {"readers": 2, "visits": 3, "loans": 3}}


def test_refreshing_twice_gives_the_same_tables_and_a_fix_is_picked_up_by_a_period_refresh(
    county, sui_central, xiaolin_site
):
    loan = lend(county["books"][0], county["adult"], sui_central, "2026-05-10 10:00")
    refresh_report_tables(until=date(2026, 6, 20))
    first = sorted(LoanMonth.objects.values_list("month", "site_id", "clc_top", "loans"))
    refresh_report_tables(until=date(2026, 6, 20))
    assert sorted(LoanMonth.objects.values_list("month", "site_id", "clc_top", "loans")) == first
    assert LoanDay.objects.count() == 1 and ReaderMonth.objects.count() == 1

    Loan.objects.filter(pk=loan.pk).update(site=xiaolin_site)  # a data fix in the admin
    assert loan_counts(LoanScope(), *MAY, ["site"]) == {(sui_central.pk,): 1}  # summary: stale
    call_command("refresh_report_tables", "--period", "2026-05", stdout=None)
    assert loan_counts(LoanScope(), *MAY, ["site"]) == {(xiaolin_site.pk,): 1}


def test_each_actor_counts_only_the_loans_in_their_scope(
    county,
    sui_central,
    xiaolin_site,
    zengdu_item,
    zengdu_central,
    zengdu,
    nlc_lender,
    hubei_reviewer,
    xiaolin_volunteer,
    sui_librarian,
    zengdu_librarian,
):
    lend(county["books"][0], county["adult"], sui_central, "2026-06-02 10:00")
    lend(county["books"][1], county["child"], xiaolin_site, "2026-06-02 11:00")
    zd_reader = make_patron(zengdu, zengdu_central, "Z1")
    lend(zengdu_item, zd_reader, zengdu_central, "2026-06-03 10:00")

    def total(user):
        return sum(loan_counts(LoanScope.for_user(user), *JUNE).values())

    def check():
        assert total(sui_librarian) == 2
        assert total(zengdu_librarian) == 1
        assert total(xiaolin_volunteer) == 1
        assert total(hubei_reviewer) == 3
        assert total(nlc_lender) == 3

    both_ways(check)


def test_figures_on_the_demo_data_match_counts_made_from_the_loans():
    call_command("seed_demo", "--today", "2026-06-30", "--scale", "0.05", stdout=None)
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 6, 30, 12)), tick=False):
        refresh_report_tables(until=date(2026, 6, 20))  # the last ten days stay live
        start, end = date(2025, 7, 1), date(2026, 7, 1)
        loans = list(
            Loan.objects.filter(
                checked_out_at__gte=timezone.make_aware(timezone.datetime(2025, 7, 1))
            ).select_related("item__title", "patron", "site")
        )
        assert len(loans) > 1000
        expected = Counter((loan.item.title.clc_top, loan.site_id) for loan in loans)
        assert loan_counts(LoanScope(), start, end, ["clc_top", "site"]) == expected

        def band(loan):
            age = timezone.localtime(loan.checked_out_at).year - loan.patron.birth_year
            return next(
                (
                    b
                    for bound, b in (
                        (6, "0-6"),
                        (12, "7-12"),
                        (18, "13-18"),
                        (35, "19-35"),
                        (59, "36-59"),
                    )
                    if age <= bound
                ),
                "60+",
            )

        expected = Counter((loan.patron.category, band(loan)) for loan in loans)
        assert loan_counts(LoanScope(), start, end, ["category", "age_band"]) == expected

        by_month: dict = {}
        for loan in loans:
            month = timezone.localtime(loan.checked_out_at).date().replace(day=1)
            by_month.setdefault(month, set()).add(loan.patron_id)
        readers = reader_counts(LoanScope(), start, end, ["month"])
        assert {k[0]: v["readers"] for k, v in readers.items()} == {
            m: len(p) for m, p in by_month.items()
        }
        assert reader_counts(LoanScope(), start, end)[()]["readers"] == len(
            {loan.patron_id for loan in loans}
        )


def test_the_hourly_refresh_summarises_today_up_to_a_minute_ago(county, sui_central, capsys):
    with time_machine.travel(at("2026-06-12 15:00"), tick=False):
        lend(county["books"][0], county["adult"], sui_central, "2026-06-12 10:00")
        lend(county["books"][1], county["child"], sui_central, "2026-06-12 14:59:30")
        call_command("refresh_report_tables", "--today")
        assert "2026-06-12 14:59" in capsys.readouterr().out
        assert LoanDay.objects.get().loans == 1  # the loan of 30 seconds ago is read live
        call_command("refresh_report_tables", "--dry-run")
        assert "汇总现截至 2026-06-12 14:59（不含）" in capsys.readouterr().out
        today = (date(2026, 6, 12), date(2026, 6, 13))
        assert loan_counts(LoanScope(), *today, ["day"]) == {(date(2026, 6, 12),): 2}
        assert reader_counts(LoanScope(), *today) == {(): {"readers": 2, "visits": 2, "loans": 2}}
        # Queued for the background worker, as the hourly timer does.
        call_command("refresh_report_tables", "--enqueue", "--today")
        job = Job.objects.get(kind=Job.Kind.REPORT_REFRESH)
        assert job.status == "succeeded" and job.params == {"today": True}
        assert "2026-06-12 14:59" in job.result["message"]
