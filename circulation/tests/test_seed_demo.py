"""`manage.py seed_demo`: the Sui County demo, its invariants, idempotence and determinism.

Most tests run the command at 5 % of the full volume for speed; one builds the full-size plan in
memory (without writing it) to check the volumes the README promises.
"""

import hashlib
from datetime import date, datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils import timezone
from stdnum import isbn

from accounts.models import User
from circulation.demo.people import DEMO_PASSWORD
from circulation.demo.seed import COUNTIES, DEMO_READER_PIN
from circulation.demo.simulation import simulate
from circulation.integrity import find_violations
from circulation.models import Hold, Loan, LoanRule, Patron
from circulation.selectors import holds_to_pull
from circulation.services.holds import hold_ready
from collections_app.models import (
    Consignment,
    Display,
    Item,
    ItemEvent,
    Library,
    Site,
    Title,
    Transfer,
    TransferLine,
)
from reports.demand import demand_moves

ANCHOR = "2026-06-30"


def seed(*extra: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--today", ANCHOR, "--scale", "0.05", *extra, stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded(db):
    return seed()


def digest() -> str:
    """A fingerprint of the demo by natural keys, independent of primary keys."""
    h = hashlib.sha256()
    for row in Item.objects.order_by("barcode").values_list(
        "barcode", "title__isbn", "status", "home_site__code", "current_site__code"
    ):
        h.update(repr(row).encode())
    for row in Loan.objects.order_by("item__barcode", "checked_out_at").values_list(
        "item__barcode", "patron__card_number", "checked_out_at", "due_at", "returned_at"
    ):
        h.update(repr(row).encode())
    h.update(repr(ItemEvent.objects.count()).encode())
    for row in Hold.objects.order_by("patron__card_number", "title__isbn", "placed_at").values_list(
        "patron__card_number",
        "title__isbn",
        "title__title",
        "pickup_site__code",
        "status",
        "placed_at",
        "expires_at",
        "item__barcode",
        "trapped_at",
        "closed_at",
    ):
        h.update(repr(row).encode())
    return h.hexdigest()


def wipe() -> None:
    from reports.models import PeriodReport, PeriodReportEvent

    PeriodReportEvent.objects.all().delete()
    PeriodReport.objects.all().delete()
    Hold.history.all().delete()
    for model in (
        Hold,
        ItemEvent,
        Loan,
        TransferLine,
        Transfer,
        Item,
        Title,
        Display,
        LoanRule,
        Patron,
    ):
        model.objects.all().delete()
    Consignment.objects.all().delete()
    User.objects.all().delete()
    for kind in (Site.Kind.SERVICE_POINT, Site.Kind.BRANCH, Site.Kind.CENTRAL):
        Site.objects.filter(kind=kind).delete()
    Library.objects.filter(kind=Library.Kind.COUNTY).delete()
    Library.objects.all().delete()


def test_it_creates_the_libraries_and_sites_of_the_sui_county_case(seeded):
    libraries = {lib.code: lib for lib in Library.objects.all()}
    assert libraries["NLC"].kind == Library.Kind.NATIONAL
    assert libraries["HBLIB"].kind == Library.Kind.PROVINCIAL
    assert libraries["SUIXIAN"].province == libraries["HBLIB"]
    assert libraries["ZENGDU"].province == libraries["HBLIB"]
    sui = Site.objects.filter(library__code="SUIXIAN")
    assert sui.get(code="central").name == "随县图书馆总馆"
    assert sui.get(code="xiaolin").name == "小林一中"
    assert {"神农部落", "炎帝学校", "县统计局"} <= set(sui.values_list("name", flat=True))
    assert sui.filter(kind=Site.Kind.BRANCH).count() >= 3
    assert not sui.exclude(kind=Site.Kind.CENTRAL).filter(parent=None).exists()
    assert Site.objects.filter(library__code="ZENGDU", kind=Site.Kind.CENTRAL).exists()


def test_self_service_is_open_at_one_service_point_of_sui_county_only(seeded):
    from readers.models import SelfServicePoint

    point = SelfServicePoint.objects.select_related("site", "changed_by").get()
    assert (point.site.library.code, point.site.code) == ("SUIXIAN", "shennong")
    assert point.site.kind == Site.Kind.SERVICE_POINT
    assert point.enabled and point.changed_by.username == "suixian"
    # A second run leaves the librarian's later choice alone.
    SelfServicePoint.objects.update(enabled=False)
    seed()
    assert not SelfServicePoint.objects.get().enabled


def test_the_demo_logins_have_their_roles_libraries_and_the_published_password(seeded):
    expected = {
        "nlc": ("lender", "NLC"),
        "hubei": ("provincial", "HBLIB"),
        "suixian": ("librarian", "SUIXIAN"),
        "zengdu": ("librarian", "ZENGDU"),
        "xiaolin": ("site_staff", "SUIXIAN"),
    }
    for username, (role, library) in expected.items():
        user = User.objects.get(username=username)
        assert (user.role, user.library.code) == (role, library)
        assert user.first_name
    assert User.objects.get(username="admin").is_superuser
    assert list(User.objects.get(username="xiaolin").sites.values_list("code", flat=True)) == [
        "xiaolin"
    ]
    assert User.objects.get(username="suixian").check_password(DEMO_PASSWORD)


def test_the_consignments_are_lent_by_the_nlc_to_the_receiving_county(seeded):
    sui = Consignment.objects.get(reference="NLC-2021-SX")
    assert sui.lender.code == "NLC" and sui.library.code == "SUIXIAN"
    assert sui.agreement_date.year == 2021
    items = Item.objects.filter(consignment=sui)
    assert items.count() == sui.expected_count == 1500
    assert not items.exclude(owner__code="NLC").exists()
    assert not items.exclude(library__code="SUIXIAN").exists()
    assert not items.exclude(title__library__code="SUIXIAN").exists()
    assert Item.objects.filter(consignment__reference="NLC-2021-ZD").count() == 150


def test_every_item_status_matches_its_open_loan_or_transfer_line(seeded):
    # Subqueries, not joins: a join on loans__returned_at__isnull also matches unlent items.
    open_loan = Q(pk__in=Loan.objects.open().values("item"))
    in_transit = TransferLine.objects.filter(is_open=True, transfer__status="dispatched")
    on_the_road = Q(pk__in=in_transit.values("item"))
    assert Item.objects.filter(open_loan).exclude(status=Item.Status.ON_LOAN).count() == 0
    assert Item.objects.filter(status=Item.Status.ON_LOAN).exclude(open_loan).count() == 0
    assert Item.objects.filter(on_the_road).exclude(status=Item.Status.IN_TRANSIT).count() == 0
    assert Item.objects.filter(status=Item.Status.IN_TRANSIT).exclude(on_the_road).count() == 0
    assert not in_transit.exclude(item__current_site=F("transfer__source")).exists()
    assert not TransferLine.objects.filter(is_open=True, transfer__status="received").exists()
    assert Transfer.objects.filter(status=Transfer.Status.DRAFT).exists()


def test_the_demo_passes_check_integrity(seeded):
    assert find_violations() == []


def test_counts_per_status_add_up_to_the_items_held(seeded):
    for library in Library.objects.filter(kind=Library.Kind.COUNTY):
        items = Item.objects.filter(library=library)
        per_status = dict(items.values_list("status").annotate(n=Count("id")))
        assert sum(per_status.values()) == items.count()
        assert per_status[Item.Status.AVAILABLE] > per_status[Item.Status.ON_LOAN] > 0
        assert Loan.objects.open().filter(library=library).count() == per_status["on_loan"]


def test_no_loan_is_due_before_checkout_or_returned_without_a_site(seeded):
    loans = Loan.objects.all()
    assert loans.count() > 1000
    assert not loans.filter(due_at__lte=F("checked_out_at")).exists()
    assert not loans.filter(returned_at__lt=F("checked_out_at")).exists()
    assert not loans.filter(returned_at__isnull=True, return_site__isnull=False).exists()
    assert not loans.filter(returned_at__isnull=False, return_site__isnull=True).exists()
    assert Loan.objects.overdue(now=timezone.make_aware(datetime(2026, 6, 30))).exists()
    assert loans.filter(renewals__gt=0).exists()
    assert not Item.objects.filter(loans__isnull=False, last_loan_at__isnull=True).exists()
    assert ItemEvent.objects.filter(kind=ItemEvent.Kind.CHECKED_OUT).count() == loans.count()
    returned = loans.filter(returned_at__isnull=False).count()
    assert ItemEvent.objects.filter(kind=ItemEvent.Kind.RETURNED).count() == returned


def test_nothing_happens_after_the_anchor(seeded):
    anchor = timezone.make_aware(datetime(2026, 6, 30))
    assert not Loan.objects.filter(checked_out_at__gte=anchor).exists()
    assert not Loan.objects.filter(returned_at__gte=anchor).exists()
    assert not ItemEvent.objects.filter(at__gte=anchor).exists()


def test_a_second_run_creates_nothing_new_and_says_so(seeded):
    before = {model: model.objects.count() for model in (Item, Loan, ItemEvent, Patron, User)}
    output = seed()
    assert "已存在" in output and "未新建" in output
    assert {model: model.objects.count() for model in before} == before


def test_a_second_run_restores_a_missing_demo_login(seeded):
    # The platform administrator: the other logins signed or reviewed the demo's records, which
    # keep who did it (a person who did is never deleted, only deactivated).
    User.objects.filter(username="admin").delete()
    output = seed()
    assert "新建演示登录 1 个" in output
    assert User.objects.get(username="admin").is_superuser


def test_the_same_anchor_gives_the_same_data(seeded):
    first = digest()
    assert Hold.objects.exists()
    wipe()
    seed()
    assert digest() == first


def test_loans_rise_in_the_summer_holiday(seeded):
    loans = Loan.objects.filter(library__code="SUIXIAN")
    july = loans.filter(checked_out_at__year=2025, checked_out_at__month=7).count()
    april = loans.filter(checked_out_at__year=2026, checked_out_at__month=4).count()
    assert july > april * 1.2


def test_the_village_reads_more_agriculture_than_the_central_library(seeded):
    def share_of_agriculture(site_code):
        loans = Loan.objects.filter(library__code="SUIXIAN", site__code=site_code)
        return loans.filter(item__title__clc_top="S").count() / loans.count()

    assert share_of_agriculture("shennong") > 3 * share_of_agriculture("central")


def test_the_catalogue_has_valid_isbns_and_all_22_classes(seeded):
    titles = Title.objects.filter(library__code="SUIXIAN")
    assert titles.values("clc_top").distinct().count() == 22
    assert not titles.exclude(clc__startswith=F("clc_top")).exists()
    for number in titles.values_list("isbn", flat=True)[:500]:
        assert len(number) == 13 and number.startswith("9787") and isbn.is_valid(number)


def test_the_real_cnmarc_records_are_in_the_sui_county_catalogue(seeded):
    record = Title.objects.get(library__code="SUIXIAN", isbn="9787503717444")
    assert record.title == "'94中国发展报告"
    assert record.publisher == "中国统计出版社"
    assert (record.year, record.clc, record.clc_top) == (1994, "F124", "F")
    assert str(record.price) == "68.00"
    assert "http://www.nlc.cn/" in record.marc
    # Two printings share the ISBN of '97中国发展报告.
    assert Title.objects.filter(library__code="SUIXIAN", isbn="9787503726231").count() == 2


def test_it_refuses_to_run_in_production_without_force(db, settings):
    settings.DJANGO_ENV = "production"
    with pytest.raises(CommandError):
        seed()
    assert not User.objects.exists()


def test_it_rejects_an_anchor_before_the_volumes_arrived(db):
    with pytest.raises(CommandError):
        call_command("seed_demo", "--today", "2021-05-01", stdout=StringIO())


def test_the_full_size_plan_has_30000_volumes_and_a_county_sized_year():
    tz = timezone.get_default_timezone()
    sui = simulate(COUNTIES[0], date(2026, 6, 30), 1.0, tz)
    assert len(sui.barcode) == 30_000
    assert len(set(sui.barcode)) == 30_000
    assert 40_000 <= len(sui.loans) <= 60_000
    assert len(sui.patrons) == 3_000
    assert {p.category for p in sui.patrons} == set(Patron.Category.values)
    assert sum(1 for s in sui.status if s == Item.Status.IN_TRANSIT) > 0
    assert any(t[3] == Transfer.Status.DRAFT for t in sui.transfers)
    assert sum(1 for s in sui.status if s in (Item.Status.MISSING, Item.Status.DAMAGED)) > 0


def test_if_empty_leaves_a_database_with_data_alone(db, capsys):
    from collections_app.models import Library

    Library.objects.create(code="OWN", name="自有图书馆", kind=Library.Kind.COUNTY)
    call_command("seed_demo", "--if-empty", "--today", "2026-06-30", "--scale", "0.02")
    assert "未写入演示数据" in capsys.readouterr().out
    assert list(Library.objects.values_list("code", flat=True)) == ["OWN"]


def test_the_first_reader_of_each_county_signs_in_online_with_the_readme_pin(seeded, client):
    for library, card in (("SUIXIAN", "SX000001"), ("ZENGDU", "ZD000001")):
        sign_in = reverse("readers:sign-in", args=[library])
        account = reverse("readers:account", args=[library])
        assert client.post(sign_in, {"card_number": card, "pin": "1357"}).status_code == 200
        assert client.get(account).status_code == 302
        response = client.post(sign_in, {"card_number": card, "pin": DEMO_READER_PIN})
        assert response.status_code == 302
        page = client.get(account)
        assert page.status_code == 200 and card in page.content.decode()
        client.cookies.clear()


def test_each_county_has_holds_in_every_state_before_the_anchor(seeded):
    anchor = timezone.make_aware(datetime(2026, 6, 30))
    for library in Library.objects.filter(kind=Library.Kind.COUNTY):
        holds = Hold.objects.filter(library=library)
        assert set(holds.values_list("status", flat=True)) == set(Hold.Status.values)
        assert not holds.filter(Q(placed_at__gte=anchor) | Q(closed_at__gte=anchor)).exists()
        assert not holds.filter(status__in=Hold.OPEN, expires_at__lte=anchor).exists()
        assert not holds.filter(status__in=Hold.OPEN, closed_at__isnull=False).exists()
        assert not holds.exclude(status__in=Hold.OPEN).filter(closed_at__isnull=True).exists()
        # Readers queue for the most lent titles whose every copy is out.
        queue = holds.waiting().values("title").annotate(n=Count("id")).order_by("-n").first()
        assert queue["n"] >= 2
        assert not Item.objects.filter(
            title=queue["title"], status__in=[Item.Status.AVAILABLE, Item.Status.IN_TRANSIT]
        ).exists()
        # Copies brought back in the last days stand on the pickup site's hold shelf.
        assert all(hold_ready(hold) for hold in holds.trapped().select_related("item"))
        # A filled hold's reader borrowed the copy that was trapped.
        for hold in holds.filter(status=Hold.Status.FULFILLED):
            assert Loan.objects.filter(
                item=hold.item, patron=hold.patron, checked_out_at__gte=hold.placed_at
            ).exists()
        # Some desk has a free copy to send to a reader waiting at another site.
        sites = Site.objects.filter(library=library, is_active=True)
        assert any(holds_to_pull(site, now=anchor) for site in sites)
        # The rotation page sees a reader waiting at one site for a copy idle at another.
        assert demand_moves(library, now=anchor)
    assert find_violations() == []


def test_the_demo_readers_have_one_waiting_and_one_ready_hold(seeded, client):
    for library, card in (("SUIXIAN", "SX000001"), ("ZENGDU", "ZD000001")):
        holds = Hold.objects.filter(patron__card_number=card).select_related("title", "item")
        open_holds = holds.filter(status__in=Hold.OPEN)
        assert sorted(open_holds.values_list("status", flat=True)) == ["trapped", "waiting"]
        assert hold_ready(holds.trapped().get())
        client.post(
            reverse("readers:sign-in", args=[library]),
            {"card_number": card, "pin": DEMO_READER_PIN},
        )
        page = client.get(reverse("readers:account", args=[library])).content.decode()
        for hold in open_holds:
            assert hold.title.title in page
        client.cookies.clear()


def test_a_second_run_places_no_more_holds(seeded):
    before = list(Hold.objects.order_by("pk").values_list("pk", "status"))
    seed()
    assert list(Hold.objects.order_by("pk").values_list("pk", "status")) == before


def test_the_demand_report_lists_the_demo_holds_that_waited_longest(seeded, client):
    client.force_login(User.objects.get(username="suixian"))
    response = client.get("/reports/demand/", {"period": "2026"})
    waited = next(t for t in response.context["tables"] if t.key == "holds-waited")
    titles = {row[0] for row in waited.rows}
    assert len(titles) >= 3
    closed = Hold.objects.filter(library__code="SUIXIAN").exclude(status__in=Hold.OPEN)
    assert titles & set(closed.values_list("title__title", flat=True))


def test_each_county_has_period_reports_reviewed_and_the_nlc_pulls_the_accepted_ones(seeded):
    from rest_framework.test import APIClient

    from accounts.models import ApiToken
    from accounts.tokens import api_token_create
    from reports.models import PeriodReport

    assert "工作报表 10（已通过 6）" in seeded
    for library in Library.objects.filter(kind=Library.Kind.COUNTY):
        reports = PeriodReport.objects.filter(library=library)
        statuses = set(reports.values_list("status", flat=True))
        assert {"accepted", "draft"} <= statuses and statuses & {"submitted", "returned"}
    anchor = timezone.make_aware(datetime.fromisoformat(ANCHOR).replace(hour=23))
    for stamp in ("created_at", "submitted_at", "reviewed_at"):
        assert not PeriodReport.objects.filter(**{f"{stamp}__gt": anchor}).exists(), stamp
    accepted = PeriodReport.objects.filter(status="accepted")
    assert all(report.figures["totals"]["loans"] > 0 for report in accepted)
    # The NLC's systems pull every accepted report of its libraries with a read-only token.
    nlc = User.objects.get(username="nlc")
    _token, secret = api_token_create(user=nlc, name="国图数据平台", kind=ApiToken.Kind.READ_ONLY)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    listed = api.get("/api/v1/period-reports/").json()
    assert {row["id"] for row in listed["results"]} == set(accepted.values_list("pk", flat=True))
    assert find_violations() == []


@pytest.mark.parametrize("anchor", ["2026-01-01", "2026-04-01", "2026-07-31", "future"])
def test_the_period_reports_fit_any_anchor(seeded, anchor):
    from datetime import timedelta

    from reports.models import PeriodReport, PeriodReportEvent
    from reports.period_demo import seed_period_reports

    day = (
        timezone.localdate() + timedelta(days=45)
        if anchor == "future"
        else date.fromisoformat(anchor)
    )
    PeriodReportEvent.objects.all().delete()
    PeriodReport.objects.all().delete()
    counts = seed_period_reports(today=day)
    assert counts == {"accepted": 6, "submitted": 1, "returned": 1, "draft": 2}
    end = timezone.make_aware(datetime.combine(day, datetime.max.time()))
    for stamp in ("created_at", "submitted_at", "reviewed_at"):
        assert not PeriodReport.objects.filter(**{f"{stamp}__gt": end}).exists(), stamp
    assert not PeriodReportEvent.objects.filter(at__gt=end).exists()
