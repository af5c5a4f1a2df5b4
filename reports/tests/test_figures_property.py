"""Every report's figures against plain counts made here from the loans, readers and volumes,
over random loans (some crossing a month's end, at any site of their library), volumes moved and
re-statused through the one door after they were lent, a random reach of the summary tables
(nightly refreshes to a day, refreshes during the day to an instant, one after the other),
random windows, groupings, filters and roles.

The counts here use none of the report engine: each loan's dimensions are read off its objects
in Python (local checkout day, the title's class, the reader's age in the checkout year), and
each role's scope is written out as the rule docs/reports.md states it. The report pages'
tables are also built twice, all live and then from the summary, and must be the same.
"""

from collections import Counter
from datetime import date, datetime, timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.scope import LoanScope
from circulation.models import Loan, Patron
from collections_app.models import Consignment, Item, ItemEvent
from collections_app.services.items import item_transition
from conftest import make_item, make_site
from reports.engine.dimensions import Params, ReportError
from reports.engine.holdings import item_counts
from reports.engine.loans import loan_counts
from reports.engine.readers import reader_counts
from reports.facts import refresh_report_tables
from reports.pages.compare import compare_report
from reports.pages.holdings import holdings_report
from reports.pages.preferences import preferences_report
from reports.pages.readers import readers_report
from reports.pages.volume import volume_report
from reports.tests.helpers import make_patron

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(datetime(2026, 7, 15, 12, 0))
FIRST_DAY = date(2026, 3, 1)
DAYS = (NOW.date() - FIRST_DAY).days + 1  # loans from 1 March to today


def _at(*moment):
    return timezone.make_aware(datetime(*moment))


# The refreshes made before the questions, in turn: a day is a nightly refresh up to its
# midnight, an instant a refresh during the day up to it (loans after it are read live).
REACHES = [
    (),
    (date(2026, 4, 1),),
    (date(2026, 5, 17),),
    (date(2026, 7, 1),),
    (date(2026, 7, 15),),
    (_at(2026, 7, 15, 9, 30),),
    (_at(2026, 3, 1, 0, 1),),
    (_at(2026, 5, 17, 14, 0),),
    (_at(2026, 4, 1, 0, 0),),
    (date(2026, 7, 1), _at(2026, 7, 15, 9, 30)),
    (_at(2026, 7, 15, 9, 30), date(2026, 7, 15)),
    (date(2026, 5, 17), _at(2026, 7, 15, 11, 58)),
]


def _refresh(reaches):
    for reach in reaches:
        if isinstance(reach, datetime):
            refresh_report_tables(through=reach)
        else:
            refresh_report_tables(until=reach)


ROLES = ["sui", "zengdu", "xiaolin", "hubei", "nlc"]
BANDS = ((6, "0-6"), (12, "7-12"), (18, "13-18"), (35, "19-35"), (59, "36-59"))
LOAN_PLACES = ["library", "site", "site_kind", "consignment"]
MONTH_ONLY = ["clc_top", "category", "age_band"]
READER_PLACES = ["library", "site", "site_kind", "consignment", "category", "age_band"]
STATUSES = [s for s in Item.Status.values if s != Item.Status.EXPECTED]


@pytest.fixture
def world(
    suixian,
    zengdu,
    nlc,
    sui_central,
    sui_branch,
    xiaolin_site,
    zengdu_central,
    sui_consignment,
    zengdu_consignment,
    sui_librarian,
    zengdu_librarian,
    xiaolin_volunteer,
    hubei_reviewer,
    nlc_lender,
):
    second = Consignment.objects.create(
        library=suixian,
        lender=nlc,
        reference="NLC-2025-SX",
        agreement_date=date(2025, 3, 1),
        status=Consignment.Status.ACTIVE,
    )
    zengdu_branch = make_site(zengdu, "east", "曾都东城分馆", "branch", zengdu_central)
    sui_sites = [sui_central, sui_branch, xiaolin_site]
    zd_sites = [zengdu_central, zengdu_branch]
    books = []
    for n, (consignment, site, clc) in enumerate(
        [
            (sui_consignment, sui_central, "I247.5"),
            (sui_consignment, sui_branch, "K825.6"),
            (sui_consignment, xiaolin_site, "TP311"),
            (second, sui_central, "I247.5"),
            (second, xiaolin_site, "G624"),
            (sui_consignment, sui_branch, "D920"),
            (zengdu_consignment, zengdu_central, "I247.5"),
            (zengdu_consignment, zengdu_branch, "O13"),
        ]
    ):
        books.append(make_item(consignment, site, f"NLP{n:05}", clc=clc))
    readers = [
        make_patron(suixian, xiaolin_site, "S1", Patron.Category.CHILD, birth_year=2019),
        make_patron(suixian, sui_central, "S2", Patron.Category.ADULT, birth_year=1980),
        make_patron(suixian, sui_branch, "S3", Patron.Category.SENIOR, birth_year=1950),
        make_patron(suixian, sui_central, "S4", Patron.Category.STUDENT, birth_year=None),
        make_patron(zengdu, zengdu_central, "Z1", Patron.Category.STUDENT, birth_year=2008),
        make_patron(zengdu, zengdu_branch, "Z2", Patron.Category.ADULT, birth_year=1990),
    ]
    return {
        "books": books,
        "readers": readers,
        "sites": {suixian.pk: sui_sites, zengdu.pk: zd_sites},
        "users": {
            "sui": sui_librarian,
            "zengdu": zengdu_librarian,
            "xiaolin": xiaolin_volunteer,
            "hubei": hubei_reviewer,
            "nlc": nlc_lender,
        },
        "province": suixian.province_id,
        "nlc": nlc,
    }


# A loan: which volume, which of its library's readers and sites, the day and minute it was
# checked out, and after how many days it came back (None: still out).
LOAN = st.tuples(
    st.integers(0, 7),
    st.integers(0, 5),
    st.integers(0, 2),
    st.integers(0, DAYS - 1),
    st.integers(0, 24 * 60 - 1),
    st.one_of(st.none(), st.integers(0, 40)),
)
# A volume's state now: moved to one of its library's sites, in one status, last lent or not;
# some around the 90 idle days, in the month they begin (counted live) or the months around.
MOVE = st.tuples(
    st.integers(0, 7),
    st.integers(0, 2),
    st.sampled_from(STATUSES),
    st.one_of(
        st.sampled_from([None, 10, 200]), st.integers(70 * 24, 130 * 24).map(lambda h: h / 24)
    ),
)


def _pick(options, n):
    return options[n % len(options)]


def _make_loans(world, loans):
    made, out = [], set()
    for book_n, reader_n, site_n, day, minute, days_out in loans:
        book = world["books"][book_n]
        library_readers = [r for r in world["readers"] if r.library_id == book.library_id]
        reader = _pick(library_readers, reader_n)
        site = _pick(world["sites"][book.library_id], site_n)
        start = timezone.make_aware(
            datetime.combine(FIRST_DAY + timedelta(days=day), datetime.min.time())
        ) + timedelta(minutes=minute)
        if start > NOW:
            start = NOW - timedelta(minutes=minute + 1)
        back = None if days_out is None else start + timedelta(days=days_out, hours=1)
        if back is None or back > NOW:
            back = None if book.pk not in out else min(NOW, start + timedelta(hours=1))
            out.add(book.pk)  # one open loan per volume
        made.append(
            Loan(
                library_id=book.library_id,
                item=book,
                patron=reader,
                site=site,
                checked_out_at=start,
                due_at=start + timedelta(days=30),
                returned_at=back,
                return_site=site if back else None,
            )
        )
    Loan.objects.bulk_create(made)


def _move(world, moves):
    """Each volume's state now, through the one door every service uses."""
    for book_n, site_n, status, days_ago in moves:
        book = Item.objects.get(pk=world["books"][book_n].pk)
        site = _pick(world["sites"][book.library_id], site_n)
        item_transition(
            items=[book],
            kind=ItemEvent.Kind.STATUS_CHANGED,
            to_status=status,
            to_site=site,
            at=NOW - timedelta(days=1),
            last_loan_at=None if days_ago is None else NOW - timedelta(days=days_ago),
        )


# Plain counts: the scope rules and each loan's dimensions, written out without the engine.


def _loan_in_scope(role, loan, world) -> bool:
    if role == "sui":
        return loan.library_id == world["users"]["sui"].library_id
    if role == "zengdu":
        return loan.library_id == world["users"]["zengdu"].library_id
    if role == "xiaolin":
        return loan.site.code == "xiaolin"
    if role == "hubei":
        return loan.library.province_id == world["province"]
    return loan.item.owner_id == world["nlc"].pk


def _item_in_scope(role, item, world) -> bool:
    if role == "xiaolin":
        return item.current_site.code == "xiaolin"
    if role == "nlc":
        return item.owner_id == world["nlc"].pk
    if role == "hubei":
        return item.library.province_id == world["province"]
    return item.library_id == world["users"][role].library_id


def _age_band(loan):
    if loan.patron.birth_year is None:
        return "unknown"
    age = timezone.localtime(loan.checked_out_at).year - loan.patron.birth_year
    return next((band for bound, band in BANDS if age <= bound), "60+")


def _loan_value(loan, name):
    day = timezone.localtime(loan.checked_out_at).date()
    return {
        "day": day,
        "week": day - timedelta(days=day.weekday()),
        "month": day.replace(day=1),
        "year": date(day.year, 1, 1),
        "library": loan.library_id,
        "site": loan.site_id,
        "site_kind": loan.site.kind,
        "consignment": loan.item.consignment_id,
        "clc_top": loan.item.title.clc_top,
        "category": loan.patron.category,
        "age_band": _age_band(loan),
    }[name]


def _loans(world, role, start, end, filters):
    loans = Loan.objects.select_related("item__title", "patron", "site", "library")
    return [
        loan
        for loan in loans
        if _loan_in_scope(role, loan, world)
        and start <= timezone.localtime(loan.checked_out_at).date() < end
        and all(_loan_value(loan, name) == value for name, value in filters.items())
    ]


def _expected_loans(loans, dims) -> Counter:
    return Counter(tuple(_loan_value(loan, name) for name in dims) for loan in loans)


def _expected_readers(loans, dims) -> dict:
    groups: dict = {}
    for loan in loans:
        key = tuple(_loan_value(loan, name) for name in dims)
        group = groups.setdefault(key, (set(), set(), [0]))
        group[0].add(loan.patron_id)
        group[1].add((loan.patron_id, loan.site_id, _loan_value(loan, "day")))
        group[2][0] += 1
    return {
        key: {"readers": len(r), "visits": len(v), "loans": n[0]}
        for key, (r, v, n) in groups.items()
    }


def _expected_items(world, role, dims, idle_since) -> dict:
    in_service = (Item.Status.AVAILABLE, Item.Status.ON_LOAN, Item.Status.IN_TRANSIT)
    items = Item.objects.filter(status__in=in_service).select_related(
        "title", "current_site", "library"
    )
    values = {
        "library": lambda i: i.library_id,
        "site": lambda i: i.current_site_id,
        "site_kind": lambda i: i.current_site.kind,
        "consignment": lambda i: i.consignment_id,
        "clc_top": lambda i: i.title.clc_top,
    }
    result: dict = {}
    for item in items:
        if not _item_in_scope(role, item, world):
            continue
        key = tuple(values[name](item) for name in dims)
        entry = result.setdefault(key, {"held": 0, "never": 0, "idle": 0})
        entry["held"] += 1
        entry["never"] += item.last_loan_at is None
        entry["idle"] += item.status == Item.Status.AVAILABLE and (
            item.last_loan_at is None or item.last_loan_at < idle_since
        )
    return result


def _filter_value(world, name, n):
    options = {
        "site": [s.pk for sites in world["sites"].values() for s in sites],
        "site_kind": ["central", "branch", "service_point"],
        "consignment": sorted({b.consignment_id for b in world["books"]}),
        "clc_top": ["I", "K", "T", "G", "D", "O"],
        "category": list(Patron.Category.values),
        "age_band": ["0-6", "7-12", "13-18", "19-35", "36-59", "60+", "unknown"],
        "library": sorted(world["sites"]),
    }[name]
    return _pick(options, n)


QUESTION = st.fixed_dictionaries(
    {
        "role": st.sampled_from(ROLES),
        "start": st.integers(0, DAYS - 1),
        "length": st.integers(1, 140),
        "time": st.sampled_from([None, "day", "week", "month", "year"]),
        "places": st.lists(st.sampled_from(LOAN_PLACES + MONTH_ONLY), max_size=2, unique=True),
        "filter": st.one_of(
            st.none(),
            st.tuples(st.sampled_from(LOAN_PLACES + MONTH_ONLY), st.integers(0, 20)),
        ),
    }
)


TO_DATE_STARTS = [date(2026, 1, 1), date(2026, 4, 1), date(2026, 7, 1), date(2026, 5, 1)]


def _whole_months(n: int) -> tuple[date, date]:
    """A window of whole months (the reader counts' fast path), from `n`."""
    first = date(2026, 3 + n % 5, 1)
    last = date(2026, 3 + n % 5 + (n // 5) % 3, 1)
    end = date(last.year + last.month // 12, last.month % 12 + 1, 1)
    return first, end


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    loans=st.lists(LOAN, max_size=25),
    moves=st.lists(MOVE, max_size=6),
    reach=st.sampled_from(REACHES),
    questions=st.lists(QUESTION, min_size=1, max_size=6),
    windows=st.sampled_from(["any", "whole months", "to date"]),
)
def test_every_figure_matches_counts_made_from_the_loans_and_volumes(
    world, loans, moves, reach, questions, windows
):
    with time_machine.travel(NOW, tick=False), transaction.atomic():
        _make_loans(world, loans)
        _move(world, moves)
        _refresh(reach)
        for n, q in enumerate(questions):
            user = world["users"][q["role"]]
            scope = LoanScope.for_user(user)
            if windows == "whole months":
                start, end = _whole_months(q["start"] + n)
            elif windows == "to date":  # this year, quarter or month up to today
                start = _pick(TO_DATE_STARTS, q["start"] + n)
                end = NOW.date() + timedelta(days=1)
            else:
                start = FIRST_DAY + timedelta(days=q["start"])
                end = min(start + timedelta(days=q["length"]), NOW.date() + timedelta(days=1))
            filters = {}
            if q["filter"] and q["filter"][0] not in q["places"]:
                filters = {q["filter"][0]: _filter_value(world, *q["filter"])}
            dims = ([q["time"]] if q["time"] else []) + q["places"]
            by_day = q["time"] in ("day", "week")
            refused = by_day and any(n in MONTH_ONLY for n in [*q["places"], *filters])
            in_window = _loans(world, q["role"], start, end, filters)
            if refused:
                with pytest.raises(ReportError):
                    loan_counts(scope, start, end, dims, filters)
            else:
                assert loan_counts(scope, start, end, dims, filters) == _expected_loans(
                    in_window, dims
                ), (q, start, end)
            readable = not by_day and "clc_top" not in [*dims, *filters]
            if readable:
                got = reader_counts(scope, start, end, dims, filters)
                got = {k: v for k, v in got.items() if any(v.values())}
                assert got == _expected_readers(in_window, dims), (q, start, end)
            item_dims = [d for d in q["places"] if d not in ("category", "age_band")]
            item_filters = {k: v for k, v in filters.items() if k not in ("category", "age_band")}
            idle_since = NOW - timedelta(days=90)
            got = item_counts(scope, item_dims, item_filters, idle_since=idle_since)
            expected = _expected_items(world, q["role"], item_dims, idle_since)
            if item_filters:
                name, value = next(iter(item_filters.items()))
                expected = {
                    k: v
                    for k, v in _expected_items(
                        world, q["role"], [*item_dims, name], idle_since
                    ).items()
                    if k[-1] == value
                }
                merged: dict = {}
                for k, v in expected.items():
                    entry = merged.setdefault(k[:-1], {"held": 0, "never": 0, "idle": 0})
                    for figure in entry:
                        entry[figure] += v[figure]
                expected = merged
            if not item_dims and not expected:
                expected = {(): {"held": 0, "never": 0, "idle": 0}}
            assert got == expected, (q, item_filters)
        transaction.set_rollback(True)


def _pages(user, start, end) -> list:
    """Every report page's tables as plain data, for `user` over [start, end)."""
    scope = LoanScope.for_user(user)
    p = Params(start=start, end=end, grain="month", rows="clc_top", cols="site")
    tables = volume_report(scope, p)
    tables += readers_report(scope, p)
    tables += holdings_report(scope, p)
    tables += preferences_report(scope, p)
    tables += compare_report(scope, p, by="library")
    tables += compare_report(scope, p, by="consignment")
    return [(t.key, t.rows, t.total) for t in tables]


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    loans=st.lists(LOAN, max_size=25),
    moves=st.lists(MOVE, max_size=6),
    role=st.sampled_from(ROLES),
    start=st.integers(0, DAYS - 1),
    length=st.integers(1, 140),
)
def test_every_report_page_shows_the_same_tables_live_and_from_the_summary(
    world, loans, moves, role, start, length
):
    user = world["users"][role]
    first = FIRST_DAY + timedelta(days=start)
    end = min(first + timedelta(days=length), NOW.date() + timedelta(days=1))
    with time_machine.travel(NOW, tick=False), transaction.atomic():
        _make_loans(world, loans)
        _move(world, moves)
        live = _pages(user, first, end)
        refresh_report_tables(until=NOW.date())
        assert _pages(user, first, end) == live
        refresh_report_tables(through=NOW - timedelta(minutes=45))  # during the day
        assert _pages(user, first, end) == live
        # The holdings page's per-site rows: held volumes as counted here from the items.
        holdings = {t[0]: t for t in live}["turnover-by-site"]
        assert sum(row[1] for row in holdings[1]) == sum(
            v["held"] for v in _expected_items(world, role, [], NOW).values()
        )
        transaction.set_rollback(True)
