"""Scope audit: what each actor may read or change outside their scope, page by page.

Rules under test (DESIGN.md "Who uses it", invariant 5):
- an object outside the user's scope answers 404 (not 403, not 200);
- a read-only role (provincial reviewer, lender) trying a write gets 403 or 404, never a change;
- readers and loans never appear to anyone outside the reader's library;
- site staff act only at their own sites.
"""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from circulation.models import ClosedDay, Hold, Loan, LoanRule, Patron
from collections_app.models import (
    Box,
    Consignment,
    Display,
    Item,
    RotationMember,
    RotationPlan,
    RotationStop,
    Site,
    Transfer,
    TransferLine,
)
from conftest import make_item, make_site
from reports.models import PeriodReport

NOT_FOUND = 404
READ_ONLY_REFUSALS = (403, 404)


# Objects of both counties ----------------------------------------------------------------


def _rules(library):
    for category in Patron.Category.values:
        LoanRule.objects.create(
            library=library, category=category, loan_days=30, max_items=5, max_renewals=2
        )


@pytest.fixture
def rules(suixian, zengdu):
    _rules(suixian)
    _rules(zengdu)


@pytest.fixture
def sui_reader(sui_central, rules):
    return Patron.objects.create(
        library=sui_central.library,
        card_number="SX900001",
        name="随县读者甲",
        phone="13900000001",
        category=Patron.Category.ADULT,
        home_site=sui_central,
    )


@pytest.fixture
def zengdu_reader(zengdu_central, rules):
    return Patron.objects.create(
        library=zengdu_central.library,
        card_number="ZD900001",
        name="曾都读者乙",
        phone="13900000002",
        category=Patron.Category.ADULT,
        home_site=zengdu_central,
    )


def _lend(item, patron, site, days_ago=40, days=30):
    start = timezone.now() - timedelta(days=days_ago)
    loan = Loan.objects.create(
        library=item.library,
        item=item,
        patron=patron,
        site=site,
        checked_out_at=start,
        due_at=start + timedelta(days=days),
    )
    Item.objects.filter(pk=item.pk).update(status=Item.Status.ON_LOAN, last_loan_at=start)
    return loan


@pytest.fixture
def sui_loan(sui_item, sui_reader, sui_central):
    """An overdue loan of Sui County: 随县读者甲 has 乡土中国."""
    return _lend(sui_item, sui_reader, sui_central)


@pytest.fixture
def zengdu_loan(zengdu_item, zengdu_reader, zengdu_central):
    return _lend(zengdu_item, zengdu_reader, zengdu_central)


def _transfer(source, destination, item, user, reason=Transfer.Reason.ROTATION):
    transfer = Transfer.objects.create(
        library=source.library,
        source=source,
        destination=destination,
        reason=reason,
        created_by=user,
    )
    TransferLine.objects.create(library=source.library, transfer=transfer, item=item)
    return transfer


@pytest.fixture
def sui_transfer(sui_central, sui_branch, sui_item, sui_librarian):
    """A draft from the central library to the branch: neither is 小林一中."""
    return _transfer(sui_central, sui_branch, sui_item, sui_librarian)


@pytest.fixture
def zengdu_branch(zengdu, zengdu_central):
    return make_site(zengdu, "xihe", "西河分馆", Site.Kind.BRANCH, zengdu_central)


@pytest.fixture
def zengdu_transfer(zengdu_central, zengdu_branch, zengdu_item, zengdu_librarian):
    return _transfer(zengdu_central, zengdu_branch, zengdu_item, zengdu_librarian)


@pytest.fixture
def sui_box(suixian, sui_item):
    box = Box.objects.create(library=suixian, code="BOX-SX-01", name="随县一号书箱")
    Item.objects.filter(pk=sui_item.pk).update(box=box)
    return box


@pytest.fixture
def zengdu_box(zengdu, zengdu_item):
    box = Box.objects.create(library=zengdu, code="BOX-ZD-01", name="曾都一号书箱")
    Item.objects.filter(pk=zengdu_item.pk).update(box=box)
    return box


@pytest.fixture
def sui_display(suixian, sui_central):
    return Display.objects.create(
        library=suixian, site=sui_central, name="随县国图专架", starts_on=date(2024, 1, 1)
    )


@pytest.fixture
def zengdu_display(zengdu, zengdu_central):
    return Display.objects.create(
        library=zengdu, site=zengdu_central, name="曾都国图专架", starts_on=date(2024, 1, 1)
    )


def _plan(library, site, item, name):
    plan = RotationPlan.objects.create(library=library, name=name)
    stop = RotationStop.objects.create(
        library=library, plan=plan, position=1, site=site, stay_days=30
    )
    RotationMember.objects.create(library=library, plan=plan, item=item, stop=stop)
    return plan


@pytest.fixture
def sui_plan(suixian, sui_central, sui_item):
    return _plan(suixian, sui_central, sui_item, "随县轮换")


@pytest.fixture
def zengdu_plan(zengdu, zengdu_central, zengdu_item):
    return _plan(zengdu, zengdu_central, zengdu_item, "曾都轮换")


def _hold(patron, item):
    return Hold.objects.create(
        library=patron.library,
        patron=patron,
        title=item.title,
        pickup_site=patron.home_site,
        expires_at=timezone.now() + timedelta(days=30),
    )


@pytest.fixture
def sui_hold(sui_reader, sui_item):
    return _hold(sui_reader, sui_item)


@pytest.fixture
def zengdu_hold(zengdu_reader, zengdu_item):
    return _hold(zengdu_reader, zengdu_item)


@pytest.fixture
def zengdu_closed_day(zengdu, zengdu_central):
    return ClosedDay.objects.create(
        library=zengdu, site=zengdu_central, date=timezone.localdate() + timedelta(days=10)
    )


def _report(library, consignment, status=PeriodReport.Status.DRAFT):
    figures = None if status == PeriodReport.Status.DRAFT else {"totals": {}, "tables": []}
    return PeriodReport.objects.create(
        library=library,
        consignment=consignment,
        kind=PeriodReport.Kind.MONTH,
        period="2025-01",
        starts_on=date(2025, 1, 1),
        ends_on=date(2025, 1, 31),
        status=status,
        figures=figures,
    )


@pytest.fixture
def sui_report(suixian, sui_consignment):
    return _report(suixian, sui_consignment, PeriodReport.Status.SUBMITTED)


@pytest.fixture
def zengdu_report(zengdu, zengdu_consignment):
    return _report(zengdu, zengdu_consignment)


# Pages of another county answer 404 ------------------------------------------------------

# name → (fixture, how to build the url from it)
SUI_PAGES = {
    "site": (
        "sui_central",
        lambda s: reverse("collections:site-detail", args=[s.library.code, s.code]),
    ),
    "item": ("sui_item", lambda i: reverse("collections:item-detail", args=[i.barcode])),
    "transfer": ("sui_transfer", lambda t: reverse("collections:transfer-detail", args=[t.pk])),
    "pick list": ("sui_transfer", lambda t: reverse("collections:transfer-pick-list", args=[t.pk])),
    "transfer receipt": (
        "sui_transfer",
        lambda t: reverse("collections:transfer-receive", args=[t.pk]),
    ),
    "box": ("sui_box", lambda b: reverse("collections:box-detail", args=[b.code])),
    "display": ("sui_display", lambda d: reverse("collections:display-detail", args=[d.pk])),
    "rotation plan": ("sui_plan", lambda p: reverse("collections:rotation-detail", args=[p.pk])),
    "rotation edit": ("sui_plan", lambda p: reverse("collections:rotation-edit", args=[p.pk])),
    "consignment": (
        "sui_consignment",
        lambda c: reverse("collections:consignment-detail", args=[c.pk]),
    ),
    "manifest import": (
        "sui_consignment",
        lambda c: reverse("collections:consignment-import", args=[c.pk]),
    ),
    "scan desk": (
        "sui_consignment",
        lambda c: reverse("collections:consignment-scan", args=[c.pk]),
    ),
    "sign-off": (
        "sui_consignment",
        lambda c: reverse("collections:consignment-sign-off", args=[c.pk]),
    ),
    "missing list export": (
        "sui_consignment",
        lambda c: reverse("collections:consignment-export", args=[c.pk, "missing", "csv"]),
    ),
    "extra list export": (
        "sui_consignment",
        lambda c: reverse("collections:consignment-export", args=[c.pk, "extra", "xlsx"]),
    ),
    "labels": ("sui_consignment", lambda c: reverse("collections:consignment-labels", args=[c.pk])),
    "circulation desk": (
        "sui_central",
        lambda s: reverse("circulation:desk-site", args=[s.library.code, s.code]),
    ),
    "reader": ("sui_reader", lambda p: reverse("circulation:patron-detail", args=[p.pk])),
    "reader edit": ("sui_reader", lambda p: reverse("circulation:patron-edit", args=[p.pk])),
    "period report": ("sui_report", lambda r: reverse("reports:period-detail", args=[r.pk])),
    "period report xlsx": (
        "sui_report",
        lambda r: reverse("reports:period-download", args=[r.pk, "xlsx"]),
    ),
}


@pytest.mark.parametrize("page", SUI_PAGES)
def test_every_page_of_another_county_is_not_found_for_a_county_librarian(
    request, client_for, zengdu_librarian, page
):
    fixture, url = SUI_PAGES[page]
    target = request.getfixturevalue(fixture)
    response = client_for(zengdu_librarian).get(url(target))
    assert response.status_code == NOT_FOUND, page


# Writes on another county's objects answer 404 and change nothing ------------------------

SUI_WRITES = {
    "transfer dispatch": (
        "sui_transfer",
        lambda t: reverse("collections:transfer-dispatch", args=[t.pk]),
        {},
    ),
    "transfer cancel": (
        "sui_transfer",
        lambda t: reverse("collections:transfer-cancel", args=[t.pk]),
        {},
    ),
    "transfer scan": (
        "sui_transfer",
        lambda t: reverse("collections:transfer-add-scan", args=[t.pk]),
        {"barcode": "NL00000002"},
    ),
    "transfer fill": (
        "sui_transfer",
        lambda t: reverse("collections:transfer-fill", args=[t.pk]),
        {"count": 5},
    ),
    "transfer line remove": (
        "sui_transfer",
        lambda t: reverse("collections:transfer-remove-line", args=[t.pk, t.lines.get().pk]),
        {},
    ),
    "transfer receive": (
        "sui_transfer",
        lambda t: reverse("collections:transfer-receive", args=[t.pk]),
        {"finish": "1"},
    ),
    "box pack": (
        "sui_box",
        lambda b: reverse("collections:box-pack", args=[b.code]),
        {"barcode": "NL00000002"},
    ),
    "box unpack": ("sui_box", lambda b: reverse("collections:box-unpack", args=[b.code]), {}),
    "box send": ("sui_box", lambda b: reverse("collections:box-send", args=[b.code]), {}),
    "display scan": (
        "sui_display",
        lambda d: reverse("collections:display-scan", args=[d.pk]),
        {"barcode": "NL00000001", "action": "remove"},
    ),
    "rotation run": ("sui_plan", lambda p: reverse("collections:rotation-run", args=[p.pk]), {}),
    "rotation add": (
        "sui_plan",
        lambda p: reverse("collections:rotation-add-items", args=[p.pk]),
        {"barcodes": "NL00000002"},
    ),
    "consignment start": (
        "sui_consignment",
        lambda c: reverse("collections:consignment-start", args=[c.pk]),
        {},
    ),
    "consignment scan": (
        "sui_consignment",
        lambda c: reverse("collections:consignment-scan", args=[c.pk]),
        {"barcode": "NL00000001"},
    ),
    "consignment sign-off": (
        "sui_consignment",
        lambda c: reverse("collections:consignment-sign-off", args=[c.pk]),
        {},
    ),
    "reader suspend": (
        "sui_reader",
        lambda p: reverse("circulation:patron-suspend", args=[p.pk]),
        {"reason": "测试"},
    ),
    "reader reinstate": (
        "sui_reader",
        lambda p: reverse("circulation:patron-reinstate", args=[p.pk]),
        {},
    ),
    "reader edit": (
        "sui_reader",
        lambda p: reverse("circulation:patron-edit", args=[p.pk]),
        {"card_number": "X1", "name": "改名", "category": "adult"},
    ),
    "hold place": (
        "sui_reader",
        lambda p: reverse("circulation:hold-create", args=[p.pk]),
        {"code": "NL00000001"},
    ),
    "hold cancel": ("sui_hold", lambda h: reverse("circulation:hold-cancel", args=[h.pk]), {}),
    "loan renew": ("sui_loan", lambda loan: reverse("circulation:loan-renew", args=[loan.pk]), {}),
    "desk scan": (
        "sui_central",
        lambda s: reverse("circulation:desk-scan", args=[s.library.code, s.code]),
        {"mode": "return", "code": "NL00000001"},
    ),
    "desk dispatch": (
        "sui_transfer",
        lambda t: reverse("circulation:desk-dispatch", args=[t.library.code, t.source.code, t.pk]),
        {},
    ),
    "period report save": (
        "sui_report",
        lambda r: reverse("reports:period-save", args=[r.pk]),
        {"narrative": "改写"},
    ),
    "period report review": (
        "sui_report",
        lambda r: reverse("reports:period-review", args=[r.pk]),
        {"decision": "accept"},
    ),
}


@pytest.fixture
def sui_world(
    sui_item,
    xiaolin_item,
    sui_transfer,
    sui_box,
    sui_display,
    sui_plan,
    sui_reader,
    sui_hold,
    sui_loan,
    sui_report,
):
    """Every Sui County object the writes aim at, and a fingerprint of their state."""

    def fingerprint():
        return {
            "items": sorted(
                Item.objects.values_list(
                    "barcode", "status", "current_site", "box", "display", "home_site"
                )
            ),
            "transfers": sorted(Transfer.objects.values_list("pk", "status")),
            "lines": sorted(TransferLine.objects.values_list("pk", "item", "state")),
            "readers": sorted(
                Patron.objects.values_list("pk", "card_number", "name", "is_suspended")
            ),
            "holds": sorted(Hold.objects.values_list("pk", "status")),
            "loans": sorted(Loan.objects.values_list("pk", "due_at", "renewals", "returned_at")),
            "members": RotationMember.objects.count(),
            "reports": sorted(PeriodReport.objects.values_list("pk", "status", "narrative")),
            "consignments": sorted(Consignment.objects.values_list("pk", "status")),
        }

    return fingerprint


@pytest.mark.parametrize("write", SUI_WRITES)
def test_no_write_reaches_another_county(
    request, client_for, zengdu_librarian, zengdu_central, sui_world, write
):
    fixture, url, data = SUI_WRITES[write]
    target = request.getfixturevalue(fixture)
    before = sui_world()
    response = client_for(zengdu_librarian).post(url(target), data)
    assert response.status_code == NOT_FOUND, write
    assert sui_world() == before, write


@pytest.mark.parametrize("actor", ["hubei_reviewer", "nlc_lender"])
@pytest.mark.parametrize("write", [w for w in SUI_WRITES if w != "period report review"])
def test_read_only_roles_change_nothing(request, client_for, sui_world, actor, write):
    user = request.getfixturevalue(actor)
    fixture, url, data = SUI_WRITES[write]
    target = request.getfixturevalue(fixture)
    before = sui_world()
    client_for(user).post(url(target), data)
    assert sui_world() == before, write


READ_ONLY_STATUS_WRITES = [
    "transfer dispatch",
    "transfer cancel",
    "transfer scan",
    "transfer fill",
    "transfer line remove",
    "transfer receive",
    "display scan",
    "rotation run",
    "rotation add",
    "consignment start",
    "consignment scan",
    "consignment sign-off",
    "reader suspend",
    "reader reinstate",
    "reader edit",
    "hold place",
    "hold cancel",
    "loan renew",
    "desk scan",
    "desk dispatch",
    "period report save",
]


@pytest.mark.parametrize("actor", ["hubei_reviewer", "nlc_lender"])
@pytest.mark.parametrize("write", READ_ONLY_STATUS_WRITES)
def test_read_only_roles_are_refused_with_403_or_404(request, client_for, sui_world, actor, write):
    user = request.getfixturevalue(actor)
    fixture, url, data = SUI_WRITES[write]
    target = request.getfixturevalue(fixture)
    response = client_for(user).post(url(target), data)
    assert response.status_code in READ_ONLY_REFUSALS, write


@pytest.mark.parametrize("actor", ["hubei_reviewer", "nlc_lender"])
@pytest.mark.parametrize("write", ["box pack", "box unpack", "box send"])
def test_read_only_roles_are_refused_with_403_on_box_writes(
    request, client_for, sui_world, actor, write
):
    user = request.getfixturevalue(actor)
    fixture, url, data = SUI_WRITES[write]
    target = request.getfixturevalue(fixture)
    response = client_for(user).post(url(target), data)
    assert response.status_code in READ_ONLY_REFUSALS, write


def test_a_read_only_role_cannot_create_anything(
    client_for, hubei_reviewer, nlc_lender, sui_central, sui_branch, suixian, nlc
):
    for user in (hubei_reviewer, nlc_lender):
        client = client_for(user)
        posts = {
            reverse("collections:transfer-new"): {
                "source": sui_central.pk,
                "destination": sui_branch.pk,
                "reason": "rotation",
            },
            reverse("collections:display-new"): {
                "site": sui_central.pk,
                "name": "x",
                "kind": "shelf",
                "starts_on": "2025-01-01",
            },
            reverse("collections:rotation-new"): {"name": "x", "demand_loans": 3},
            reverse("collections:consignment-announce"): {
                "lender": nlc.pk,
                "reference": "X-1",
                "agreement_date": "2025-01-01",
            },
            reverse("circulation:patron-create"): {
                "card_number": "X1",
                "name": "x",
                "category": "adult",
                "home_site": sui_central.pk,
            },
            reverse("circulation:loan-rules"): {"category": "adult", "loan_days": 10},
            reverse("circulation:closed-days"): {"first": "2030-01-01"},
            reverse("reports:period-create"): {"period": "2025-01"},
            reverse("collections:suggestions-accept"): {
                "move": f"{sui_central.pk}:{sui_branch.pk}:I:5:90"
            },
        }
        for url, data in posts.items():
            response = client.post(url, data)
            assert response.status_code in READ_ONLY_REFUSALS, (user, url)
        response = client.post(reverse("collections:box-list"), {"code": "B1", "name": "x"})
        assert not Box.objects.exists()
    assert not Transfer.objects.exists()
    assert not Display.objects.exists()
    assert not RotationPlan.objects.exists()
    assert not Patron.objects.exists()
    assert not LoanRule.objects.exists()
    assert not ClosedDay.objects.exists()
    assert not PeriodReport.objects.exists()
    assert not Consignment.objects.filter(reference="X-1").exists()


def test_a_librarian_cannot_delete_a_closed_day_of_another_county(
    client_for, sui_librarian, zengdu_closed_day
):
    url = reverse("circulation:closed-day-delete", args=[zengdu_closed_day.pk])
    assert client_for(sui_librarian).post(url).status_code == NOT_FOUND
    assert ClosedDay.objects.filter(pk=zengdu_closed_day.pk).exists()


def test_a_librarian_cannot_edit_a_loan_rule_of_another_county(client_for, sui_librarian, rules):
    foreign = LoanRule.objects.filter(library__code="ZENGDU").first()
    response = client_for(sui_librarian).post(
        reverse("circulation:loan-rules"),
        {"id": foreign.pk, "category": foreign.category, "loan_days": 1, "max_items": 1},
    )
    assert response.status_code == NOT_FOUND
    foreign.refresh_from_db()
    assert foreign.loan_days == 30
    response = client_for(sui_librarian).get(
        reverse("circulation:loan-rules"), {"edit": foreign.pk}
    )
    assert response.context["editing"] is None


# Readers and loans stay in the reader's library -------------------------------------------


def test_readers_pages_are_not_found_for_the_province_and_the_lender(
    client_for, hubei_reviewer, nlc_lender, sui_loan, sui_reader
):
    for user in (hubei_reviewer, nlc_lender):
        client = client_for(user)
        for url in (
            reverse("circulation:patron-list"),
            reverse("circulation:patron-detail", args=[sui_reader.pk]),
            reverse("circulation:overdue-list"),
            reverse("circulation:overdue-notices"),
            reverse("circulation:patron-import"),
            reverse("circulation:desk"),
        ):
            assert client.get(url).status_code == NOT_FOUND, (user.username, url)


def test_no_page_open_to_the_province_or_the_lender_names_a_reader(
    client_for, hubei_reviewer, nlc_lender, sui_loan, sui_reader, sui_item, sui_hold
):
    pages = [
        reverse("circulation:home"),
        reverse("collections:item-detail", args=[sui_item.barcode]),
        reverse("collections:item-list"),
        reverse("reports:volume"),
        reverse("reports:readers"),
        reverse("reports:preferences"),
        reverse("reports:compare"),
        reverse("reports:demand"),
        "/api/v1/item-events/",
        f"/api/v1/items/{sui_item.barcode}/",
    ]
    for user in (hubei_reviewer, nlc_lender):
        client = client_for(user)
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, (user.username, url)
            body = response.content.decode()
            for private in (sui_reader.name, sui_reader.card_number, sui_reader.phone):
                assert private not in body, (user.username, url, private)


def test_the_readers_api_shows_no_reader_outside_their_library(
    client_for, hubei_reviewer, nlc_lender, zengdu_librarian, sui_reader
):
    for user in (hubei_reviewer, nlc_lender, zengdu_librarian):
        client = client_for(user)
        assert client.get("/api/v1/patrons/").json()["count"] == 0
        response = client.get(f"/api/v1/patrons/{sui_reader.card_number}/")
        assert response.status_code == NOT_FOUND


def test_another_county_cannot_find_a_reader_by_card_at_its_own_desk(
    client_for, zengdu_librarian, zengdu_central, sui_reader, sui_item
):
    client = client_for(zengdu_librarian)
    url = reverse("circulation:desk-site", args=[zengdu_central.library.code, zengdu_central.code])
    response = client.get(url, {"card": sui_reader.card_number})
    assert sui_reader.name not in response.content.decode()
    scan = reverse("circulation:desk-scan", args=[zengdu_central.library.code, zengdu_central.code])
    response = client.post(
        scan,
        {"mode": "checkout", "code": sui_reader.card_number},
        HTTP_ACCEPT="application/json",
    )
    assert sui_reader.name not in response.content.decode()
    assert (
        client.get(reverse("circulation:patron-list"), {"q": "随县"})
        .context["page"]
        .paginator.count
        == 0
    )


def test_the_api_checkout_does_not_lend_to_a_reader_of_another_county(
    client_for, zengdu_librarian, zengdu_item, sui_reader
):
    response = client_for(zengdu_librarian).post(
        "/api/v1/circulation/checkout/",
        {"site": "ZENGDU.central", "barcode": zengdu_item.barcode, "card_number": "SX900001"},
    )
    assert response.status_code == NOT_FOUND
    assert not Loan.objects.exists()


def test_the_circulation_api_answers_404_for_a_site_of_another_county(
    client_for, zengdu_librarian, sui_loan
):
    client = client_for(zengdu_librarian)
    for action in ("checkout", "return", "renew"):
        response = client.post(
            f"/api/v1/circulation/{action}/",
            {"site": "SUIXIAN.central", "barcode": "NL00000001", "card_number": "SX900001"},
        )
        assert response.status_code == NOT_FOUND, action
    sui_loan.refresh_from_db()
    assert sui_loan.returned_at is None


def test_the_circulation_api_refuses_read_only_roles(
    client_for, hubei_reviewer, nlc_lender, sui_loan
):
    for user in (hubei_reviewer, nlc_lender):
        response = client_for(user).post(
            "/api/v1/circulation/return/", {"site": "SUIXIAN.central", "barcode": "NL00000001"}
        )
        assert response.status_code in READ_ONLY_REFUSALS
    sui_loan.refresh_from_db()
    assert sui_loan.returned_at is None


def test_a_desk_return_does_not_tell_another_county_what_a_foreign_barcode_is(
    client_for, zengdu_librarian, zengdu_central, sui_item, rules
):
    client = client_for(zengdu_librarian)
    scan = reverse("circulation:desk-scan", args=[zengdu_central.library.code, zengdu_central.code])
    response = client.post(
        scan, {"mode": "return", "code": sui_item.barcode}, HTTP_ACCEPT="application/json"
    )
    assert sui_item.title.title not in response.content.decode()
    response = client.post(
        "/api/v1/circulation/return/", {"site": "ZENGDU.central", "barcode": sui_item.barcode}
    )
    assert sui_item.title.title not in response.content.decode()


def test_the_desk_does_not_confirm_that_a_barcode_of_another_county_exists(
    client_for, zengdu_librarian, zengdu_central, sui_item, rules
):
    client = client_for(zengdu_librarian)
    scan = reverse("circulation:desk-scan", args=[zengdu_central.library.code, zengdu_central.code])
    known = client.post(
        scan, {"mode": "checkout", "code": sui_item.barcode}, HTTP_ACCEPT="application/json"
    ).json()
    unknown = client.post(
        scan, {"mode": "checkout", "code": "NL99999999"}, HTTP_ACCEPT="application/json"
    ).json()
    assert known["message"].replace(sui_item.barcode, "?") == unknown["message"].replace(
        "NL99999999", "?"
    )


def test_a_hold_cannot_be_placed_on_a_title_of_another_county(
    client_for, sui_librarian, sui_reader, zengdu_item
):
    client = client_for(sui_librarian)
    response = client.post(
        reverse("circulation:hold-create", args=[sui_reader.pk]),
        {"code": zengdu_item.barcode, "pickup_site": sui_reader.home_site_id},
        follow=True,
    )
    assert not Hold.objects.exists()
    assert zengdu_item.title.title not in response.content.decode()


# Forms list and accept only what is in scope ------------------------------------------------


def _choices(form, field):
    return set(form.fields[field].queryset.values_list("pk", flat=True))


def test_the_transfer_form_offers_only_sites_of_the_users_library(
    client_for, sui_librarian, xiaolin_volunteer, sui_central, sui_branch, xiaolin_site,
    zengdu_central,
):  # fmt: skip
    form = client_for(sui_librarian).get(reverse("collections:transfer-new")).context["form"]
    assert zengdu_central.pk not in _choices(form, "source") | _choices(form, "destination")
    form = client_for(xiaolin_volunteer).get(reverse("collections:transfer-new")).context["form"]
    assert _choices(form, "source") == {xiaolin_site.pk}


def test_a_posted_site_of_another_county_does_not_make_a_transfer(
    client_for, sui_librarian, xiaolin_volunteer, sui_central, xiaolin_site, zengdu_central
):
    response = client_for(sui_librarian).post(
        reverse("collections:transfer-new"),
        {"source": zengdu_central.pk, "destination": sui_central.pk, "reason": "rotation"},
    )
    assert response.status_code == 200 and not Transfer.objects.exists()
    response = client_for(sui_librarian).post(
        reverse("collections:transfer-new"),
        {"source": sui_central.pk, "destination": zengdu_central.pk, "reason": "rotation"},
    )
    assert response.status_code == 200 and not Transfer.objects.exists()
    response = client_for(xiaolin_volunteer).post(
        reverse("collections:transfer-new"),
        {"source": sui_central.pk, "destination": xiaolin_site.pk, "reason": "rotation"},
    )
    assert response.status_code == 200 and not Transfer.objects.exists()


def test_the_fill_form_offers_only_consignments_of_the_transfer_library(
    client_for, sui_librarian, sui_transfer, sui_consignment, zengdu_consignment, zengdu_item
):
    client = client_for(sui_librarian)
    response = client.get(reverse("collections:transfer-detail", args=[sui_transfer.pk]))
    assert _choices(response.context["fill_form"], "consignment") == {sui_consignment.pk}
    client.post(
        reverse("collections:transfer-fill", args=[sui_transfer.pk]),
        {"count": 5, "consignment": zengdu_consignment.pk},
    )
    assert not TransferLine.objects.filter(item=zengdu_item).exists()


def test_a_transfer_scan_does_not_take_an_item_of_another_county(
    client_for, sui_librarian, sui_transfer, zengdu_item
):
    response = client_for(sui_librarian).post(
        reverse("collections:transfer-add-scan", args=[sui_transfer.pk]),
        {"barcode": zengdu_item.barcode},
        HTTP_ACCEPT="application/json",
    )
    assert not TransferLine.objects.filter(item=zengdu_item).exists()
    assert zengdu_item.title.title not in response.content.decode()


def test_a_box_is_not_sent_or_packed_across_counties(
    client_for, sui_librarian, sui_box, sui_item, zengdu_central, zengdu_item
):
    client = client_for(sui_librarian)
    response = client.get(reverse("collections:box-detail", args=[sui_box.code]))
    assert zengdu_central.pk not in _choices(response.context["send_form"], "destination")
    client.post(
        reverse("collections:box-send", args=[sui_box.code]), {"destination": zengdu_central.pk}
    )
    assert not Transfer.objects.exists()
    client.post(
        reverse("collections:box-pack", args=[sui_box.code]), {"barcode": zengdu_item.barcode}
    )
    zengdu_item.refresh_from_db()
    assert zengdu_item.box_id is None


def test_the_display_form_offers_only_sites_the_user_works_at(
    client_for, sui_librarian, xiaolin_volunteer, xiaolin_site, zengdu_central, sui_central
):
    form = client_for(sui_librarian).get(reverse("collections:display-new")).context["form"]
    assert zengdu_central.pk not in _choices(form, "site")
    form = client_for(xiaolin_volunteer).get(reverse("collections:display-new")).context["form"]
    assert _choices(form, "site") == {xiaolin_site.pk}
    client_for(sui_librarian).post(
        reverse("collections:display-new"),
        {"site": zengdu_central.pk, "name": "x", "kind": "shelf", "starts_on": "2025-01-01"},
    )
    assert not Display.objects.exists()


def test_a_display_scan_does_not_take_an_item_of_another_county(
    client_for, sui_librarian, sui_display, zengdu_item
):
    client_for(sui_librarian).post(
        reverse("collections:display-scan", args=[sui_display.pk]), {"barcode": zengdu_item.barcode}
    )
    zengdu_item.refresh_from_db()
    assert zengdu_item.display_id is None


def test_a_rotation_plan_takes_neither_stops_nor_items_of_another_county(
    client_for, sui_librarian, sui_plan, zengdu_central, zengdu_item, zengdu_box
):
    client = client_for(sui_librarian)
    response = client.get(reverse("collections:rotation-new"))
    for form in response.context["stops"].forms:
        assert zengdu_central.pk not in _choices(form, "site")
    client.post(
        reverse("collections:rotation-new"),
        {
            "name": "越界计划",
            "demand_loans": 3,
            "is_active": "on",
            "stops-TOTAL_FORMS": 1,
            "stops-INITIAL_FORMS": 0,
            "stops-0-site": zengdu_central.pk,
            "stops-0-stay_days": 30,
        },
    )
    assert not RotationStop.objects.filter(site=zengdu_central).exists()
    client.post(
        reverse("collections:rotation-add-items", args=[sui_plan.pk]),
        {"barcodes": f"{zengdu_item.barcode} {zengdu_box.code}"},
    )
    assert not RotationMember.objects.filter(plan=sui_plan, item=zengdu_item).exists()
    assert not RotationMember.objects.filter(plan=sui_plan, box=zengdu_box).exists()


def test_accepting_a_suggestion_with_sites_of_another_county_makes_no_transfer(
    client_for, sui_librarian, sui_central, zengdu_central, sui_item
):
    client_for(sui_librarian).post(
        reverse("collections:suggestions-accept"),
        {"move": f"{zengdu_central.pk}:{sui_central.pk}:C:1:1"},
    )
    client_for(sui_librarian).post(
        reverse("collections:suggestions-accept"),
        {"move": f"{sui_central.pk}:{zengdu_central.pk}:C:1:1"},
    )
    assert not Transfer.objects.exists()


def test_reader_forms_offer_only_the_users_desk_sites(
    client_for, sui_librarian, xiaolin_volunteer, sui_reader, xiaolin_site, zengdu_central
):
    form = client_for(sui_librarian).get(reverse("circulation:patron-create")).context["form"]
    assert zengdu_central.pk not in _choices(form, "home_site")
    form = client_for(xiaolin_volunteer).get(reverse("circulation:patron-create")).context["form"]
    assert _choices(form, "home_site") == {xiaolin_site.pk}
    response = client_for(sui_librarian).get(
        reverse("circulation:patron-detail", args=[sui_reader.pk])
    )
    assert zengdu_central.pk not in _choices(response.context["hold_form"], "pickup_site")


def test_a_posted_site_of_another_county_registers_no_reader_and_moves_none(
    client_for, sui_librarian, xiaolin_volunteer, sui_reader, sui_central, zengdu_central
):
    client_for(sui_librarian).post(
        reverse("circulation:patron-create"),
        {
            "card_number": "SX777",
            "name": "越界",
            "category": "adult",
            "home_site": zengdu_central.pk,
        },
    )
    client_for(xiaolin_volunteer).post(
        reverse("circulation:patron-create"),
        {"card_number": "SX778", "name": "越界", "category": "adult", "home_site": sui_central.pk},
    )
    assert not Patron.objects.filter(card_number__in=["SX777", "SX778"]).exists()
    client_for(sui_librarian).post(
        reverse("circulation:patron-edit", args=[sui_reader.pk]),
        {
            "card_number": sui_reader.card_number,
            "name": sui_reader.name,
            "category": "adult",
            "home_site": zengdu_central.pk,
        },
    )
    sui_reader.refresh_from_db()
    assert sui_reader.home_site_id == sui_central.pk
    client_for(sui_librarian).post(
        reverse("circulation:hold-create", args=[sui_reader.pk]),
        {"code": "NL00000001", "pickup_site": zengdu_central.pk},
    )
    assert not Hold.objects.exists()


def test_closed_days_take_no_site_of_another_county(client_for, sui_librarian, zengdu_central):
    client = client_for(sui_librarian)
    form = client.get(reverse("circulation:closed-days")).context["form"]
    assert zengdu_central.pk not in _choices(form, "site")
    client.post(
        reverse("circulation:closed-days"), {"site": zengdu_central.pk, "first": "2030-01-01"}
    )
    assert not ClosedDay.objects.exists()


def test_the_item_filter_offers_only_sites_and_consignments_in_scope(
    client_for, sui_librarian, xiaolin_volunteer, zengdu_central, zengdu_consignment, zengdu_item,
    sui_central, xiaolin_site,
):  # fmt: skip
    client = client_for(sui_librarian)
    form = client.get(reverse("collections:item-list")).context["filter"].form
    assert zengdu_central.pk not in _choices(form, "site")
    assert zengdu_consignment.pk not in _choices(form, "consignment")
    response = client.get(reverse("collections:item-list"), {"site": zengdu_central.pk})
    assert zengdu_item.barcode not in response.content.decode()
    form = (
        client_for(xiaolin_volunteer).get(reverse("collections:item-list")).context["filter"].form
    )
    assert _choices(form, "site") == {xiaolin_site.pk}


def test_the_report_filters_offer_only_what_is_in_scope(
    client_for, sui_librarian, zengdu_central, zengdu_consignment, zengdu
):
    response = client_for(sui_librarian).get(reverse("reports:volume"))
    form = response.context["filter"].form
    assert zengdu_central.pk not in _choices(form, "site")
    assert zengdu_consignment.pk not in _choices(form, "consignment")
    assert "library" not in form.fields or zengdu.pk not in _choices(form, "library")
    response = client_for(sui_librarian).get(reverse("reports:volume"), {"site": zengdu_central.pk})
    assert response.status_code == 400


def test_a_period_report_cannot_be_prepared_for_a_consignment_of_another_county(
    client_for, sui_librarian, sui_consignment, zengdu_consignment
):
    client = client_for(sui_librarian)
    form = client.get(reverse("reports:period-list")).context["prepare"]
    assert _choices(form, "consignment") == {sui_consignment.pk}
    client.post(
        reverse("reports:period-create"),
        {"period": "2025-01", "consignment": zengdu_consignment.pk},
    )
    assert not PeriodReport.objects.exists()


# Exports and downloads -----------------------------------------------------------------------


def test_the_idle_items_export_lists_only_items_in_scope(
    client_for, sui_librarian, xiaolin_volunteer, sui_item, xiaolin_item, zengdu_item,
    zengdu_central,
):  # fmt: skip
    url = reverse("reports:idle-items")
    body = b"".join(client_for(sui_librarian).get(url, {"format": "csv"}).streaming_content)
    assert sui_item.barcode.encode() in body and zengdu_item.barcode.encode() not in body
    response = client_for(sui_librarian).get(url, {"format": "csv", "site": zengdu_central.pk})
    assert response.status_code == 302
    body = b"".join(client_for(xiaolin_volunteer).get(url, {"format": "csv"}).streaming_content)
    assert xiaolin_item.barcode.encode() in body and sui_item.barcode.encode() not in body


def test_the_labels_pdf_prints_no_barcode_of_another_county(
    client_for, sui_librarian, sui_consignment, zengdu_consignment, zengdu_item
):
    client = client_for(sui_librarian)
    response = client.get(
        reverse("collections:consignment-labels", args=[sui_consignment.pk]),
        {"print": "1", "kind": "both", "barcodes": zengdu_item.barcode, "columns": 3, "rows": 8},
    )
    assert response.get("Content-Type", "").startswith("text/html")
    assert (
        client.get(
            reverse("collections:consignment-labels", args=[zengdu_consignment.pk]),
            {"print": "1", "kind": "both", "columns": 3, "rows": 8},
        ).status_code
        == NOT_FOUND
    )


def test_the_rollup_is_not_for_county_staff(
    client_for, sui_librarian, xiaolin_volunteer, sui_report
):
    for user in (sui_librarian, xiaolin_volunteer):
        response = client_for(user).get(
            reverse("reports:period-rollup", args=["xlsx"]), {"period": "2025-01"}
        )
        assert response.status_code == NOT_FOUND


def test_draft_period_reports_stay_with_the_county(
    client_for, hubei_reviewer, nlc_lender, xiaolin_volunteer, zengdu_report
):
    for user in (hubei_reviewer, nlc_lender, xiaolin_volunteer):
        client = client_for(user)
        for url in (
            reverse("reports:period-detail", args=[zengdu_report.pk]),
            reverse("reports:period-download", args=[zengdu_report.pk, "xlsx"]),
        ):
            assert client.get(url).status_code == NOT_FOUND, (user.username, url)


def test_the_lender_cannot_review_a_report(client_for, nlc_lender, zengdu_librarian, sui_report):
    for user in (nlc_lender, zengdu_librarian):
        response = client_for(user).post(
            reverse("reports:period-review", args=[sui_report.pk]), {"decision": "accept"}
        )
        assert response.status_code in READ_ONLY_REFUSALS
    sui_report.refresh_from_db()
    assert sui_report.status == PeriodReport.Status.SUBMITTED


def test_report_pages_and_exports_count_nothing_of_another_county(
    client_for, zengdu_librarian, sui_loan, sui_central, sui_transfer
):
    client = client_for(zengdu_librarian)
    for name in ("volume", "readers", "holdings", "preferences", "transit", "compare"):
        response = client.get(reverse(f"reports:{name}"), {"period": "2025"})
        body = response.content.decode()
        assert sui_central.name not in body, name
        assert "随县" not in body, name


# The API -------------------------------------------------------------------------------------


def test_the_api_answers_404_for_every_object_of_another_county(
    client_for, zengdu_librarian, sui_item, sui_central, sui_consignment, sui_transfer, suixian
):
    client = client_for(zengdu_librarian)
    for url in (
        f"/api/v1/items/{sui_item.barcode}/",
        f"/api/v1/sites/SUIXIAN.{sui_central.code}/",
        f"/api/v1/consignments/{sui_consignment.pk}/",
        f"/api/v1/transfers/{sui_transfer.pk}/",
        f"/api/v1/libraries/{suixian.code}/",
    ):
        assert client.get(url).status_code == NOT_FOUND, url
    for url in (
        "/api/v1/items/",
        "/api/v1/sites/",
        "/api/v1/consignments/",
        "/api/v1/transfers/",
        f"/api/v1/item-events/?item__barcode={sui_item.barcode}",
        "/api/v1/libraries/",
    ):
        body = client.get(url).content.decode()
        assert "SUIXIAN" not in body and sui_item.barcode not in body, url


def test_the_api_shows_the_volunteer_only_their_site(
    client_for, xiaolin_volunteer, sui_item, xiaolin_item, sui_transfer
):
    client = client_for(xiaolin_volunteer)
    items = client.get("/api/v1/items/").json()["results"]
    assert [item["barcode"] for item in items] == [xiaolin_item.barcode]
    assert client.get(f"/api/v1/items/{sui_item.barcode}/").status_code == NOT_FOUND
    assert client.get("/api/v1/sites/SUIXIAN.central/").status_code == NOT_FOUND
    assert client.get(f"/api/v1/transfers/{sui_transfer.pk}/").status_code == NOT_FOUND


def test_the_api_refuses_a_volunteer_at_another_site(client_for, xiaolin_volunteer, sui_loan):
    response = client_for(xiaolin_volunteer).post(
        "/api/v1/circulation/return/", {"site": "SUIXIAN.central", "barcode": "NL00000001"}
    )
    assert response.status_code == NOT_FOUND
    sui_loan.refresh_from_db()
    assert sui_loan.returned_at is None


# Site staff act only at their own sites --------------------------------------------------------


@pytest.mark.parametrize(
    "page",
    ["site", "item", "transfer", "pick list", "transfer receipt", "display", "circulation desk"],
)
def test_the_volunteer_does_not_read_pages_of_other_sites(
    request, client_for, xiaolin_volunteer, page
):
    fixture, url = SUI_PAGES[page]
    target = request.getfixturevalue(fixture)
    assert client_for(xiaolin_volunteer).get(url(target)).status_code == NOT_FOUND, page


@pytest.mark.parametrize(
    "write",
    ["transfer dispatch", "transfer cancel", "transfer scan", "transfer fill", "desk dispatch",
     "display scan", "desk scan"],
)  # fmt: skip
def test_the_volunteer_does_not_act_at_other_sites(
    request, client_for, xiaolin_volunteer, sui_world, write
):
    fixture, url, data = SUI_WRITES[write]
    target = request.getfixturevalue(fixture)
    before = sui_world()
    response = client_for(xiaolin_volunteer).post(url(target), data)
    assert response.status_code == NOT_FOUND, write
    assert sui_world() == before


@pytest.mark.parametrize(
    "write", ["box unpack", "box send", "rotation run", "rotation add",
              "consignment start", "consignment scan", "consignment sign-off",
              "reader suspend", "reader reinstate", "reader edit"],
)  # fmt: skip
def test_the_volunteer_changes_nothing_kept_at_other_sites(
    request, client_for, xiaolin_volunteer, sui_world, write
):
    fixture, url, data = SUI_WRITES[write]
    target = request.getfixturevalue(fixture)
    before = sui_world()
    client_for(xiaolin_volunteer).post(url(target), data)
    assert sui_world() == before, write


def test_the_volunteer_sees_only_the_overdue_loans_of_their_site(
    client_for, xiaolin_volunteer, sui_loan, sui_reader
):
    response = client_for(xiaolin_volunteer).get(reverse("circulation:overdue-list"))
    assert sui_reader.name not in response.content.decode()
    response = client_for(xiaolin_volunteer).get(
        reverse("circulation:overdue-list"), {"site": "central"}
    )
    assert response.status_code == NOT_FOUND


def test_the_volunteer_does_not_read_a_box_kept_at_another_site(
    client_for, xiaolin_volunteer, sui_box
):
    response = client_for(xiaolin_volunteer).get(
        reverse("collections:box-detail", args=[sui_box.code])
    )
    assert response.status_code == NOT_FOUND


def test_the_volunteer_does_not_read_a_rotation_plan_of_other_sites(
    client_for, xiaolin_volunteer, sui_plan, sui_item
):
    response = client_for(xiaolin_volunteer).get(
        reverse("collections:rotation-detail", args=[sui_plan.pk])
    )
    assert response.status_code == NOT_FOUND


def test_the_dashboard_of_another_county_counts_nothing_here(
    client_for, zengdu_librarian, sui_loan, sui_transfer, sui_reader
):
    body = client_for(zengdu_librarian).get(reverse("circulation:home")).content.decode()
    assert "随县" not in body
    assert sui_reader.name not in body


def test_the_volunteer_cannot_pack_into_a_box_kept_at_another_site(
    client_for, xiaolin_volunteer, sui_box, xiaolin_item
):
    response = client_for(xiaolin_volunteer).post(
        reverse("collections:box-pack", args=[sui_box.code]), {"barcode": xiaolin_item.barcode}
    )
    xiaolin_item.refresh_from_db()
    assert xiaolin_item.box_id is None
    assert response.status_code == NOT_FOUND


@pytest.fixture
def expected_at_central(sui_consignment, sui_central):
    return make_item(
        sui_consignment, sui_central, "NL00000077", title="待验收的书", status=Item.Status.EXPECTED
    )


@pytest.mark.parametrize("page", ["missing list export", "sign-off"])
def test_the_volunteer_does_not_read_the_receipt_lists_of_the_central_library(
    request, client_for, xiaolin_volunteer, expected_at_central, page
):
    fixture, url = SUI_PAGES[page]
    target = request.getfixturevalue(fixture)
    response = client_for(xiaolin_volunteer).get(url(target))
    body = (
        b"".join(response.streaming_content) if response.streaming else response.content
    ).decode("utf-8", "replace")
    assert response.status_code == NOT_FOUND or expected_at_central.barcode not in body


def test_the_central_site_staff_do_read_the_receipt_lists(
    client_for, sui_librarian, expected_at_central, sui_consignment
):
    url = reverse("collections:consignment-export", args=[sui_consignment.pk, "missing", "csv"])
    response = client_for(sui_librarian).get(url)
    assert expected_at_central.barcode.encode() in b"".join(response.streaming_content)
