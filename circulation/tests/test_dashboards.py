"""Dashboard figures against independent counts, for each role's view."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Q

from accounts.scope import countable_loans
from circulation import dashboards
from circulation.models import Loan, Patron
from collections_app.models import Consignment, Item, Library, Transfer, TransferLine
from conftest import make_item

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2025, 6, 15, 10, 0, tzinfo=SHANGHAI)
JUNE = datetime(2025, 6, 1, tzinfo=SHANGHAI)
MAY = datetime(2025, 5, 1, tzinfo=SHANGHAI)


def make_patron(site, card):
    return Patron.objects.create(
        library=site.library,
        card_number=card,
        name=f"读者{card}",
        category=Patron.Category.ADULT,
        home_site=site,
    )


def lend(item, patron, site, at, days=30, returned=False):
    if not returned:
        Item.objects.filter(pk=item.pk).update(status=Item.Status.ON_LOAN)
    return Loan.objects.create(
        library=item.library,
        item=item,
        patron=patron,
        site=site,
        checked_out_at=at,
        due_at=at + timedelta(days=days),
        returned_at=at + timedelta(days=2) if returned else None,
        return_site=site if returned else None,
    )


@pytest.fixture
def county(sui_item, xiaolin_item, zengdu_item, sui_consignment, zengdu_consignment):
    """Loans in June and May of 2025 in both counties, and two transfers on the road."""
    central, xiaolin = sui_item.current_site, xiaolin_item.current_site
    zengdu = zengdu_item.home_site
    reader, pupil, other = (
        make_patron(central, "S1"),
        make_patron(xiaolin, "S2"),
        make_patron(zengdu, "Z1"),
    )
    spare = make_item(sui_consignment, central, "NL00000003")
    zengdu_spare = make_item(zengdu_consignment, zengdu, "NL00900002")
    lend(sui_item, reader, central, JUNE + timedelta(hours=1), days=7)  # June, overdue
    lend(xiaolin_item, pupil, xiaolin, JUNE + timedelta(days=3))  # June
    lend(spare, pupil, xiaolin, JUNE + timedelta(days=4), returned=True)  # June
    lend(spare, reader, central, JUNE - timedelta(minutes=30), returned=True)  # 31 May, local
    lend(spare, reader, central, MAY - timedelta(days=40), returned=True)  # March
    lend(zengdu_item, other, zengdu, JUNE + timedelta(days=5))  # June, Zengdu
    lend(zengdu_spare, other, zengdu, datetime(2024, 5, 20, tzinfo=SHANGHAI), returned=True)
    for days, source, destination in ((10, central, xiaolin), (1, xiaolin, central)):
        moving = make_item(sui_consignment, source, f"NL0000010{days}", status="in_transit")
        transfer = Transfer.objects.create(
            library=central.library,
            source=source,
            destination=destination,
            reason=Transfer.Reason.ROTATION,
            status=Transfer.Status.DISPATCHED,
            created_at=NOW - timedelta(days=days),
            dispatched_at=NOW - timedelta(days=days),
        )
        TransferLine.objects.create(library=central.library, transfer=transfer, item=moving)
    return central, xiaolin, zengdu


def count_loans(*conditions):
    return Loan.objects.filter(*conditions).count()


def test_the_librarian_figures_equal_independent_counts(sui_librarian, suixian, county):
    figures = dashboards.dashboard(sui_librarian, NOW)
    assert figures["kind"] == "local"
    sui = Q(library=suixian)
    assert figures["loans"] == {
        "this_month": count_loans(sui, Q(checked_out_at__gte=JUNE)),
        "last_month": count_loans(sui, Q(checked_out_at__gte=MAY, checked_out_at__lt=JUNE)),
        "open": count_loans(sui, Q(returned_at__isnull=True)),
        "overdue": count_loans(sui, Q(returned_at__isnull=True, due_at__lt=NOW)),
    }
    assert figures["loans"] == {"this_month": 3, "last_month": 1, "open": 2, "overdue": 1}
    assert figures["readers"] == Patron.objects.filter(library=suixian).count() == 2


def test_a_loan_late_on_the_last_evening_of_may_counts_for_may(sui_librarian, county):
    figures = dashboards.loan_figures(sui_librarian, NOW)
    assert figures["last_month"] == 1


def test_items_by_status_and_site_add_up_to_the_items_held(sui_librarian, suixian, county):
    table = dashboards.dashboard(sui_librarian, NOW)["by_site"]
    assert table["total"] == Item.objects.filter(library=suixian).count() == 5
    by_site = {row["site"].code: row["total"] for row in table["rows"]}
    for code, total in by_site.items():
        assert total == Item.objects.filter(library=suixian, current_site__code=code).count()
    on_loan = table["statuses"].index("借出")
    assert (
        table["totals"][on_loan]
        == Item.objects.filter(library=suixian, status=Item.Status.ON_LOAN).count()
    )
    assert sum(table["totals"]) == table["total"]


def test_transfers_in_transit_flag_the_overdue_ones_oldest_first(sui_librarian, county):
    transit = dashboards.dashboard(sui_librarian, NOW)["transit"]
    assert (transit["count"], transit["overdue"]) == (2, 1)
    oldest = list(transit["oldest"])
    assert [t.is_overdue for t in oldest] == [True, False]
    assert [t.item_count for t in oldest] == [1, 1]


def test_the_volunteer_counts_only_their_site(xiaolin_volunteer, county):
    central, xiaolin, _ = county
    figures = dashboards.dashboard(xiaolin_volunteer, NOW)
    assert (
        figures["loans"]["this_month"]
        == count_loans(Q(site=xiaolin, checked_out_at__gte=JUNE))
        == 2
    )
    assert figures["loans"]["last_month"] == 0
    assert figures["readers"] == 1
    assert [row["site"].code for row in figures["by_site"]["rows"]] == ["xiaolin"]
    assert figures["by_site"]["total"] == Item.objects.filter(current_site=xiaolin).count()
    assert figures["transit"]["count"] == 2  # one leaving, one coming


def test_the_provincial_reviewer_sees_each_county_side_by_side(hubei_reviewer, county):
    figures = dashboards.dashboard(hubei_reviewer, NOW)
    assert figures["kind"] == "province"
    rows = {row["object"].code: row for row in figures["libraries"]["rows"]}
    assert set(rows) == {"SUIXIAN", "ZENGDU"}
    for code, row in rows.items():
        items = Item.objects.filter(library__code=code)
        june = Loan.objects.filter(library__code=code, checked_out_at__gte=JUNE)
        assert row["held"] == items.count()
        assert row["on_loan"] == items.filter(status="on_loan").count()
        assert row["in_transit"] == items.filter(status="in_transit").count()
        assert row["loans"] == june.count()
        assert row["readers"] == june.values("patron").distinct().count()
    assert (rows["SUIXIAN"]["loans"], rows["SUIXIAN"]["readers"]) == (3, 2)
    assert figures["libraries"]["totals"]["loans"] == 4


def test_the_lender_sees_each_consignment(nlc_lender, county):
    figures = dashboards.dashboard(nlc_lender, NOW)
    assert figures["kind"] == "lender"
    rows = {row["object"].reference: row for row in figures["consignments"]["rows"]}
    assert set(rows) == {"NLC-2021-SX", "NLC-2021-ZD"}
    sx = rows["NLC-2021-SX"]
    items = Item.objects.filter(consignment__reference="NLC-2021-SX")
    assert sx["held"] == items.count()
    parts = ("available", "on_loan", "in_transit", "expected", "out_of_service")
    assert sum(sx[part] for part in parts) == sx["held"]
    assert (
        sx["loans"]
        == Loan.objects.filter(
            item__consignment__reference="NLC-2021-SX", checked_out_at__gte=JUNE
        ).count()
    )
    assert {row["object"].code for row in figures["libraries"]["rows"]} == {"SUIXIAN", "ZENGDU"}


def test_countable_loans_are_the_loans_of_the_volumes_a_lender_owns(nlc_lender, county):
    central = county[0]
    other = Library.objects.create(code="OTHER", name="另一出借馆", kind=Library.Kind.NATIONAL)
    batch = Consignment.objects.create(
        library=central.library, lender=other, reference="X-1", agreement_date=date(2022, 1, 1)
    )
    foreign = make_item(batch, central, "XX00000001")
    lend(foreign, Patron.objects.get(card_number="S1"), central, JUNE + timedelta(days=1))
    assert countable_loans(nlc_lender).count() == Loan.objects.count() - 1
    assert not countable_loans(nlc_lender).filter(item=foreign).exists()


def test_countable_loans_hide_nothing_from_the_superuser_and_everything_from_the_roleless(
    superuser, county, django_user_model
):
    nobody = django_user_model.objects.create_user("nobody", password="x-long-password-1")
    assert countable_loans(superuser).count() == Loan.objects.count()
    assert countable_loans(nobody).count() == 0
    assert dashboards.dashboard(nobody, NOW)["kind"] == "none"


def test_loans_per_month_covers_twelve_months_with_zeros(sui_librarian, suixian, county):
    months = dashboards.loans_per_month(sui_librarian, NOW)
    assert [m["month"].isoformat() for m in (months[0], months[-1])] == ["2024-07-01", "2025-06-01"]
    assert {m["month"].month: m["count"] for m in months if m["count"]} == {3: 1, 5: 1, 6: 3}
    assert sum(m["count"] for m in months) == count_loans(
        Q(library=suixian, checked_out_at__gte=datetime(2024, 7, 1, tzinfo=SHANGHAI))
    )


def test_the_superuser_sees_every_library_like_a_lender(superuser, county):
    figures = dashboards.dashboard(superuser, NOW)
    assert figures["kind"] == "lender"
    assert figures["libraries"]["totals"]["held"] == Item.objects.count()
    assert (
        figures["libraries"]["totals"]["loans"]
        == Loan.objects.filter(checked_out_at__gte=JUNE).count()
    )
