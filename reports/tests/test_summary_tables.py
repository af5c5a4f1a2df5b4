"""The summary tables added for speed — ReaderCount (distinct readers per month, quarter and
year) and the narrow month cubes — give the same figures as counts made here from the loans,
and the same as the general path over ReaderMonth; a period still open adds its live days
without counting a reader twice."""

import time
from collections import Counter
from datetime import date, timedelta

import psycopg
import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from accounts.scope import LoanScope
from circulation.models import Loan, Patron
from collections_app.models import Consignment, Item
from conftest import make_item
from reports.engine.loans import loan_counts
from reports.engine.readers import reader_counts
from reports.facts import SETTLED, refresh_report_tables
from reports.models import LoanMonthPlace, LoanMonthTop, ReaderCount, RefreshState
from reports.tests.helpers import at, lend, make_patron

pytestmark = pytest.mark.django_db
YEAR = (date(2026, 1, 1), date(2027, 1, 1))
Q2 = (date(2026, 4, 1), date(2026, 7, 1))


@pytest.fixture
def borrowing(
    suixian, sui_central, xiaolin_site, sui_consignment, zengdu, zengdu_central, zengdu_item
):
    """Readers who borrow at two sites, across months and quarters, in two counties."""
    books = [
        make_item(sui_consignment, sui_central, f"NL2000000{n}", clc=clc)
        for n, clc in enumerate(["I247.5", "K825.6", "TP311", "I247.5", "G624"])
    ]
    child = make_patron(suixian, xiaolin_site, "C1", Patron.Category.CHILD, birth_year=2018)
    adult = make_patron(suixian, sui_central, "A1", Patron.Category.ADULT, birth_year=1980)
    senior = make_patron(suixian, sui_central, "S1", Patron.Category.SENIOR, birth_year=1950)
    other = make_patron(zengdu, zengdu_central, "Z1")
    for book, reader, site, when in (
        (books[0], adult, sui_central, "2026-02-03 10:00"),
        (books[1], adult, xiaolin_site, "2026-02-20 10:00"),
        (books[2], adult, sui_central, "2026-05-04 10:00"),
        (books[3], child, xiaolin_site, "2026-05-04 11:00"),
        (books[4], child, xiaolin_site, "2026-05-31 23:30"),
        (books[0], senior, sui_central, "2026-06-10 09:00"),
        (books[1], child, sui_central, "2026-06-12 09:00"),
        (zengdu_item, other, zengdu_central, "2026-06-11 10:00"),
    ):
        lend(book, reader, site, when, returned=None if when.startswith("2026-06-1") else when)
    return {"child": child, "adult": adult, "senior": senior}


def expected(loans, key):
    """{key: {"readers", "visits", "loans"}} counted here from the loans themselves."""
    readers, visits, counts = {}, {}, Counter()
    for loan in loans:
        day = timezone.localtime(loan.checked_out_at).date()
        k = key(loan)
        readers.setdefault(k, set()).add(loan.patron_id)
        visits.setdefault(k, set()).add((loan.patron_id, loan.site_id, day))
        counts[k] += 1
    return {
        k: {"readers": len(readers[k]), "visits": len(visits[k]), "loans": counts[k]}
        for k in counts
    }


def loans_between_days(start, end):
    """The loans checked out on the local days start … end − 1, with their item and reader."""
    return Loan.objects.filter(
        checked_out_at__gte=timezone.make_aware(timezone.datetime(*start.timetuple()[:3])),
        checked_out_at__lt=timezone.make_aware(timezone.datetime(*end.timetuple()[:3])),
    ).select_related("item", "patron")


def month_of(loan):
    return timezone.localtime(loan.checked_out_at).date().replace(day=1)


QUESTIONS = [
    (YEAR, [], lambda loan: ()),
    (YEAR, ["month"], lambda loan: (month_of(loan),)),
    (YEAR, ["site"], lambda loan: (loan.site_id,)),
    (YEAR, ["library"], lambda loan: (loan.library_id,)),
    (YEAR, ["consignment"], lambda loan: (loan.item.consignment_id,)),
    (YEAR, ["category"], lambda loan: (loan.patron.category,)),
    (Q2, ["site"], lambda loan: (loan.site_id,)),
    ((date(2026, 5, 1), date(2026, 6, 1)), [], lambda loan: ()),
    # This year and this quarter to date: the counted periods, cut at the window's end.
    ((date(2026, 1, 1), date(2026, 6, 13)), ["month"], lambda loan: (month_of(loan),)),
    ((date(2026, 4, 1), date(2026, 6, 13)), ["site"], lambda loan: (loan.site_id,)),
]


@pytest.mark.parametrize("window, dims, key", QUESTIONS)
def test_reader_counts_match_the_loans_with_the_period_half_summarised(
    borrowing, window, dims, key
):
    # The summary reaches 11 June: the loans of the 11th and 12th stay live, and the adult's
    # and the child's earlier borrowing in the same periods must not count them twice.
    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 6, 12, 20)), tick=False):
        refresh_report_tables(until=date(2026, 6, 11))
        assert ReaderCount.objects.filter(kind="year", period=date(2026, 1, 1)).exists()
        start, end = window
        loans = loans_between_days(start, end)
        counted = reader_counts(LoanScope(), start, end, dims)
        assert counted == expected(loans, key)
        # The general path over ReaderMonth agrees.
        RefreshState.objects.filter(name="readers").delete()
        assert reader_counts(LoanScope(), start, end, dims) == counted


def test_a_reader_at_two_sites_counts_once_in_the_total_and_once_at_each_site(
    borrowing, sui_central, xiaolin_site
):
    refresh_report_tables(until=date(2026, 7, 1))
    adult = borrowing["adult"].pk
    feb = (date(2026, 2, 1), date(2026, 3, 1))
    assert reader_counts(LoanScope(), *feb)[()]["readers"] == 1
    assert reader_counts(LoanScope(), *feb, ["site"]) == {
        (sui_central.pk,): {"readers": 1, "visits": 1, "loans": 1},
        (xiaolin_site.pk,): {"readers": 1, "visits": 1, "loans": 1},
    }
    rows = ReaderCount.objects.filter(kind="month", period=feb[0], rollup=0)
    assert sum(rows.values_list("readers", flat=True)) == 1
    assert Loan.objects.filter(patron_id=adult).count() == 3


def test_each_actor_reads_the_reader_counts_of_their_scope(
    borrowing, sui_librarian, zengdu_librarian, xiaolin_volunteer, hubei_reviewer, nlc_lender
):
    refresh_report_tables(until=date(2026, 6, 11))

    def readers(user):
        return reader_counts(LoanScope.for_user(user), *YEAR).get((), {}).get("readers", 0)

    with time_machine.travel(timezone.make_aware(timezone.datetime(2026, 6, 12, 20)), tick=False):
        assert readers(sui_librarian) == 3
        assert readers(zengdu_librarian) == 1
        assert readers(xiaolin_volunteer) == 2  # the adult in February, the child
        assert readers(hubei_reviewer) == 4
        assert readers(nlc_lender) == 4


def test_reader_counts_are_rebuilt_for_every_period_a_refresh_touches(borrowing, sui_central):
    refresh_report_tables(until=date(2026, 7, 1))
    before = reader_counts(LoanScope(), *YEAR)[()]["readers"]
    reader = make_patron(borrowing["adult"].library, sui_central, "N1")
    lend(Loan.objects.first().item, reader, sui_central, "2026-03-05 10:00", returned="2026-03-06")
    assert reader_counts(LoanScope(), *YEAR)[()]["readers"] == before  # summary: not yet
    refresh_report_tables(until=date(2026, 7, 1), since=date(2026, 3, 1))
    assert reader_counts(LoanScope(), *YEAR)[()]["readers"] == before + 1
    march = reader_counts(LoanScope(), date(2026, 1, 1), date(2026, 4, 1))  # Q1
    assert march[()]["readers"] == 2


def test_the_narrow_month_cubes_answer_place_and_class_questions(borrowing):
    refresh_report_tables(until=date(2026, 7, 1))
    assert LoanMonthPlace.objects.exists() and LoanMonthTop.objects.exists()
    loans = Loan.objects.select_related("item__title")
    assert loan_counts(LoanScope(), *YEAR, ["site"]) == Counter((loan.site_id,) for loan in loans)
    assert loan_counts(LoanScope(), *YEAR, ["clc_top"]) == Counter(
        (loan.item.title.clc_top,) for loan in loans
    )
    assert loan_counts(LoanScope(), *YEAR, ["month"]) == Counter(
        (month_of(loan),) for loan in loans
    )
    assert sum(LoanMonthPlace.objects.values_list("loans", flat=True)) == loans.count()


def test_a_period_refresh_counts_every_period_when_reader_counts_are_missing(borrowing):
    refresh_report_tables(until=date(2026, 7, 1))
    year = reader_counts(LoanScope(), *YEAR, ["month"])
    ReaderCount.objects.all().delete()  # as after installing this version over old tables
    RefreshState.objects.filter(name="readers").delete()
    refresh_report_tables(until=date(2026, 3, 1), since=date(2026, 2, 1))  # a fix of February
    assert RefreshState.objects.get(name="readers").summarised_until == date(2026, 7, 1)
    assert ReaderCount.objects.filter(kind="month", period=date(2026, 6, 1)).exists()
    assert reader_counts(LoanScope(), *YEAR, ["month"]) == year


def test_class_by_reader_questions_without_a_site_read_the_cubes_without_the_site(
    borrowing, xiaolin_volunteer
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.models import LibraryMonthClass, LibraryMonthClassAge

    refresh_report_tables(until=date(2026, 7, 1))
    assert sum(LibraryMonthClass.objects.values_list("loans", flat=True)) == Loan.objects.count()
    assert sum(LibraryMonthClassAge.objects.values_list("loans", flat=True)) == Loan.objects.count()
    loans = list(Loan.objects.select_related("item__title", "patron"))
    for scope, kept in ((LoanScope(), loans), (LoanScope.for_user(xiaolin_volunteer), None)):
        if kept is None:  # site staff: their sites only, so the site cubes
            kept = [loan for loan in loans if loan.site_id in scope.site_ids]
        with CaptureQueriesContext(connection) as queries:
            got = loan_counts(scope, *YEAR, ["clc_top", "category"])
        assert got == Counter((loan.item.title.clc_top, loan.patron.category) for loan in kept)
        read = " ".join(q["sql"] for q in queries.captured_queries)
        assert (LibraryMonthClass._meta.db_table in read) is (scope.site_ids is None)
        with CaptureQueriesContext(connection) as queries:
            loan_counts(scope, *YEAR, ["library"])
        read = " ".join(q["sql"] for q in queries.captured_queries)
        assert LoanMonthPlace._meta.db_table in read  # by place alone: the place cube
    # A data fix of one month rewrites that month of the cubes without the site too.
    Loan.objects.filter(checked_out_at__month=2).delete()
    refresh_report_tables(until=date(2026, 3, 1), since=date(2026, 2, 1))
    assert loan_counts(LoanScope(), *YEAR, ["clc_top", "category"]) == Counter(
        (loan.item.title.clc_top, loan.patron.category)
        for loan in Loan.objects.select_related("item__title", "patron")
    )


@pytest.mark.parametrize("window, dims, key", QUESTIONS)
def test_a_refresh_during_the_day_holds_the_loans_before_its_instant_and_no_later(
    borrowing, sui_central, xiaolin_site, window, dims, key
):
    """The summary refreshed at noon on 12 June: a visit that goes on after noon (the child
    again at the central library), a reader back after noon and a new site after noon count
    once, and the loans add up."""
    child, adult = borrowing["child"], borrowing["adult"]
    books = Item.objects.filter(library=child.library).order_by("pk")
    for book, (reader, site, when) in zip(
        books,
        (
            (child, sui_central, "2026-06-12 15:00"),  # the same visit as at 09:00
            (adult, xiaolin_site, "2026-06-12 16:00"),  # a reader of May, back
            (adult, sui_central, "2026-06-12 11:59"),  # before noon: in the summary
            (adult, sui_central, "2026-06-12 17:00"),  # the same visit as at 11:59
        ),
        strict=False,
    ):
        lend(book, reader, site, when, returned=when)
    with time_machine.travel(at("2026-06-12 20:00"), tick=False):
        counts = refresh_report_tables(through=at("2026-06-12 12:00"))
        state = RefreshState.objects.get(name="loans")
        assert (state.summarised_until, state.summarised_through) == (
            date(2026, 6, 13),
            at("2026-06-12 12:00"),
        )
        assert counts["summarised_through"] == at("2026-06-12 12:00")
        in_summary = sum(LoanMonthPlace.objects.values_list("loans", flat=True))
        assert in_summary == Loan.objects.filter(checked_out_at__lt=at("2026-06-12 12:00")).count()
        start, end = window
        loans = loans_between_days(start, end)
        counted = reader_counts(LoanScope(), start, end, dims)
        assert counted == expected(loans, key)
        assert loan_counts(LoanScope(), start, end, dims) == Counter(
            {k: v["loans"] for k, v in expected(loans, key).items()}
        )
        RefreshState.objects.filter(name="readers").delete()  # the general path agrees
        assert reader_counts(LoanScope(), start, end, dims) == counted
        # The nightly refresh after midnight holds the whole day, and the figures stay.
        with time_machine.travel(at("2026-06-13 01:20"), tick=False):
            refresh_report_tables()
            state = RefreshState.objects.get(name="loans")
            assert (state.summarised_until, state.summarised_through) == (date(2026, 6, 13), None)
            assert reader_counts(LoanScope(), start, end, dims) == counted


def settings_dict_url() -> str:
    """The test database, for a second connection of its own."""
    db = connection.settings_dict
    return f"postgresql://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def test_a_refresh_during_the_day_stops_before_loans_that_may_still_be_written(borrowing):
    """Not the last minute, nor after the start of a transaction still writing elsewhere: a
    checkout stamped then may not have committed yet. One that only reads holds nothing back."""
    before = timezone.now()
    counts = refresh_report_tables(through=timezone.now())
    reach = counts["summarised_through"]
    assert before - SETTLED <= reach <= timezone.now() - SETTLED
    if connection.vendor != "postgresql":
        return
    reading = psycopg.connect(settings_dict_url(), autocommit=False)
    writing = psycopg.connect(settings_dict_url(), autocommit=False)
    try:
        reading.execute("SELECT count(*) FROM circulation_loan")  # a report's read, left open
        time.sleep(0.05)
        # A desk's checkout between its row locks (which take a transaction id) and its commit.
        began = writing.execute("SELECT now(), txid_current()").fetchone()[0]
        time.sleep(0.05)
        counts = refresh_report_tables(through=timezone.now())
        assert counts["summarised_through"] <= began - SETTLED
        assert counts["summarised_through"] > began - SETTLED - timedelta(seconds=30)
        writing.rollback()
        before = timezone.now()
        counts = refresh_report_tables(through=timezone.now())
        assert counts["summarised_through"] >= before - SETTLED  # the read held nothing back
    finally:
        reading.close()
        writing.close()


def test_a_visit_taking_two_consignments_volumes_is_one_visit_unless_they_are_told_apart(
    suixian, nlc, hubei, sui_central, sui_consignment, nlc_lender
):
    """Two NLC consignments and one of the province's library, in one visit: one visit for
    the county and for each owner, one per consignment."""
    second, provincial = (
        Consignment.objects.create(
            library=suixian,
            lender=lender,
            reference=reference,
            agreement_date=date(2025, 3, 1),
            status=Consignment.Status.ACTIVE,
        )
        for lender, reference in ((nlc, "NLC-2025-SX"), (hubei, "HB-2025-SX"))
    )
    reader = make_patron(suixian, sui_central, "V1")
    for n, consignment in enumerate((provincial, sui_consignment, second)):
        book = make_item(consignment, sui_central, f"NLV0000{n}", clc="I247.5")
        lend(book, reader, sui_central, f"2026-05-04 10:0{n}", returned="2026-05-05 10:00")
    may = (date(2026, 5, 1), date(2026, 6, 1))
    county = {(): {"readers": 1, "visits": 1, "loans": 3}}
    nlc_only = {(): {"readers": 1, "visits": 1, "loans": 2}}
    apart = {
        (c.pk,): {"readers": 1, "visits": 1, "loans": 1}
        for c in (sui_consignment, second, provincial)
    }
    nlc_scope = LoanScope.for_user(nlc_lender)
    questions = (
        (LoanScope(), [], county),
        (nlc_scope, [], nlc_only),
        (LoanScope(), ["month"], {(may[0],): county[()]}),
        (LoanScope(), ["consignment"], apart),
        (nlc_scope, ["consignment"], {k: v for k, v in apart.items() if k != (provincial.pk,)}),
    )
    for scope, dims, expected in questions:  # live
        assert reader_counts(scope, *may, dims) == expected, (scope, dims)
    refresh_report_tables(until=date(2026, 7, 1))
    for readers_state in (True, False):  # from ReaderCount, then the general path
        if not readers_state:
            RefreshState.objects.filter(name="readers").delete()
        for scope, dims, expected in questions:
            assert reader_counts(scope, *may, dims) == expected, (scope, dims, readers_state)


def test_this_year_to_date_reads_the_counted_readers_and_adds_the_days_after_the_reach(
    borrowing,
):
    from django.test.utils import CaptureQueriesContext

    with time_machine.travel(at("2026-06-12 20:00"), tick=False):
        refresh_report_tables(through=at("2026-06-12 10:00"))
        to_date = (date(2026, 1, 1), date(2026, 6, 13))
        with CaptureQueriesContext(connection) as queries:
            counted = reader_counts(LoanScope(), *to_date)
        read = " ".join(q["sql"] for q in queries.captured_queries)
        assert ReaderCount._meta.db_table in read
        assert counted == {(): {"readers": 4, "visits": 8, "loans": 8}}
        # Ending before the reach, the window is not to date: the general path.
        with CaptureQueriesContext(connection) as queries:
            reader_counts(LoanScope(), date(2026, 1, 1), date(2026, 6, 12))
        read = " ".join(q["sql"] for q in queries.captured_queries)
        assert ReaderCount._meta.db_table not in read


def test_a_refresh_committing_while_a_page_counts_does_not_count_its_loans_twice(
    borrowing, monkeypatch
):
    """The reach is read, then a daytime refresh commits, then the tables are read: the
    loans it just moved would be in the tables and live. The page counts again."""
    from reports.engine import loans as engine_loans
    from reports.engine.plan import consistently

    june = (date(2026, 6, 1), date(2026, 7, 1))
    with time_machine.travel(at("2026-06-12 20:00"), tick=False):
        refresh_report_tables(until=date(2026, 6, 11))
        expected = loan_counts(LoanScope(), *june, ["site"])
        read_reach = engine_loans.summary_reach
        refreshes = []

        def reach_then_a_refresh_commits():
            reach = read_reach()
            if not refreshes:
                refreshes.append(refresh_report_tables(through=at("2026-06-12 19:00")))
            return reach

        monkeypatch.setattr(engine_loans, "summary_reach", reach_then_a_refresh_commits)
        torn = loan_counts(LoanScope(), *june, ["site"])
        assert sum(torn.values()) > sum(expected.values())  # what one pass would show
        refreshes.clear()
        RefreshState.objects.filter(name__in=["loans", "readers"]).update(
            summarised_until=date(2026, 6, 11), summarised_through=None
        )  # as before that refresh
        assert consistently(lambda: loan_counts(LoanScope(), *june, ["site"])) == expected
        assert len(refreshes) == 1
