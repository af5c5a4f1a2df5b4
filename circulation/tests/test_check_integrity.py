"""manage.py check_integrity: a county run through the services adds up; each invariant broken
on purpose with raw updates (as a bad migration, a hand fix in SQL or a bug would) is named,
with the row's id among its examples, and the command exits 1."""

import io
import re
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from circulation.integrity import CHECKS, EXAMPLES, find_violations
from circulation.models import Hold, Loan, LoanRule, Patron
from circulation.services.holds import hold_place
from circulation.services.loans import loan_checkout, loan_return
from collections_app.models import (
    Box,
    Consignment,
    HoldingCount,
    Item,
    ItemEvent,
    Site,
    Transfer,
    TransferLine,
)
from collections_app.services.boxes import box_pack
from collections_app.services.holdings import holdings_fold
from collections_app.services.items import item_transition
from collections_app.services.transfers import (
    transfer_add_items,
    transfer_create,
    transfer_dispatch,
)
from conftest import make_item


def recorded(*items):
    """Items as an import leaves them: each with its first history row."""
    for item in items:
        item_transition(items=[item], kind=ItemEvent.Kind.RECEIVED)
    return items


@pytest.fixture
def county(
    sui_librarian,
    sui_consignment,
    sui_central,
    sui_branch,
    xiaolin_site,
    wang,
    li,
    zengdu_item,
):
    """Sui County with a loan, a dispatched and a draft transfer, a copy trapped on the shelf, a
    copy travelling to a reader on a hold transfer and a packed box; Zengdu with one volume."""
    books = [make_item(sui_consignment, sui_central, f"NL3000{n:04}") for n in range(8)]
    recorded(*books, zengdu_item)
    user = sui_librarian
    loan_checkout(user=user, site=sui_central, patron=wang, barcode=books[0].barcode)

    moving = transfer_create(
        user=user, source=sui_central, destination=sui_branch, reason=Transfer.Reason.ROTATION
    )
    transfer_add_items(user=user, transfer=moving, items=[books[1], books[2]])
    transfer_dispatch(user=user, transfer=moving)

    draft = transfer_create(
        user=user, source=sui_central, destination=xiaolin_site, reason=Transfer.Reason.ALLOCATION
    )
    transfer_add_items(user=user, transfer=draft, items=[books[3]])

    on_shelf = hold_place(user=user, patron=li, title=books[4].title, pickup_site=sui_central)
    assert on_shelf.status == Hold.Status.TRAPPED

    box = Box.objects.create(library=sui_central.library, code="BOX-01", name="小林书箱")
    box_pack(user=user, box=box, items=[books[5], books[6]])

    # Wang borrows the last book at the central library and returns it at the branch while Li
    # waits for it at the central library: it travels back on a dispatched hold transfer.
    loan_checkout(user=user, site=sui_central, patron=wang, barcode=books[7].barcode)
    travelling = hold_place(user=user, patron=li, title=books[7].title, pickup_site=sui_central)
    returned = loan_return(user=user, site=sui_branch, barcode=books[7].barcode)
    hold_transfer = returned.routing.transfer
    transfer_dispatch(user=user, transfer=hold_transfer)
    travelling.refresh_from_db()
    assert travelling.status == Hold.Status.TRAPPED
    assert Item.objects.get(pk=books[7].pk).status == Item.Status.IN_TRANSIT

    return SimpleNamespace(
        books=books,
        moving=moving,
        draft=draft,
        on_shelf=on_shelf,
        travelling=travelling,
        box=box,
        zengdu_item=zengdu_item,
    )


def run(*args):
    out = io.StringIO()
    try:
        call_command("check_integrity", *args, stdout=out)
    except CommandError as error:
        return error.returncode, out.getvalue()
    return 0, out.getvalue()


LINE = re.compile(r"^✗ (?P<name>\w+)：(?P<count>\d+) — 示例：(?P<examples>[\d, ]+)（")


def broken_lines(out):
    found = {}
    for line in out.splitlines():
        if match := LINE.match(line):
            examples = [int(pk) for pk in match["examples"].split(", ")]
            found[match["name"]] = (int(match["count"]), examples)
    return found


def assert_broken(name, pk, *args):
    """The command names the invariant, lists `pk` among its examples and exits 1."""
    code, out = run(*args)
    assert code == 1, out
    broken = broken_lines(out)
    assert name in broken, out
    assert pk in broken[name][1], out
    assert name in {v.name for v in find_violations()}
    return broken


@pytest.fixture
def without_check_constraint():
    """Let a raw update store what a check constraint forbids (a restore that skipped it)."""
    dropped = []

    def drop(model, name):
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA ignore_check_constraints = ON")
            else:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending trigger events
                cursor.execute(f'ALTER TABLE {model._meta.db_table} DROP CONSTRAINT "{name}"')
        dropped.append(name)

    yield drop
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA ignore_check_constraints = OFF")


def assert_clean(library=None):
    found = find_violations(library=library)
    history = [
        (v.name, list(ItemEvent.objects.filter(item_id__in=v.examples).values()))
        for v in found
        if v.name.startswith("item")
    ]
    assert found == [], history


def drop_index(name):
    """Drop a partial unique index (inside the test's transaction, which restores it)."""
    with connection.cursor() as cursor:
        cursor.execute(f'DROP INDEX "{name}"')


def test_a_county_run_through_the_services_adds_up(county):
    code, out = run()
    assert code == 0, out
    lines = out.splitlines()
    assert [line.split("（")[0] for line in lines[: len(CHECKS)]] == [
        f"✓ {check.name}" for check in CHECKS
    ]
    assert lines[-1].startswith(f"共检查 {len(CHECKS)} 条不变量，全部成立")
    assert find_violations() == []
    assert find_violations(library="SUIXIAN") == []


def test_it_names_an_item_with_an_unknown_status(county, without_check_constraint):
    without_check_constraint(Item, "item_status_valid")
    book = county.books[1]
    Item.objects.filter(pk=book.pk).update(status="lost")
    assert_broken("item_status_valid", book.pk)


def test_it_names_an_item_on_loan_without_an_open_loan(county):
    book = county.books[2]
    Item.objects.filter(pk=book.pk).update(status=Item.Status.ON_LOAN)
    assert_broken("item_on_loan_matches_open_loan", book.pk)


def test_it_names_an_item_on_the_shelf_with_an_open_loan(county):
    book = county.books[0]
    Item.objects.filter(pk=book.pk).update(status=Item.Status.AVAILABLE)
    assert_broken("item_on_loan_matches_open_loan", book.pk)


def test_it_names_an_item_in_transit_without_a_dispatched_transfer(county):
    book = county.books[6]
    Item.objects.filter(pk=book.pk).update(status=Item.Status.IN_TRANSIT)
    assert_broken("item_in_transit_matches_transfer", book.pk)


def test_it_names_an_item_on_a_dispatched_transfer_that_is_back_on_the_shelf(county):
    book = county.books[1]
    Item.objects.filter(pk=book.pk).update(status=Item.Status.AVAILABLE)
    assert_broken("item_in_transit_matches_transfer", book.pk)


def test_it_names_an_item_on_a_draft_that_is_no_longer_at_its_source(county, sui_branch):
    book = county.books[3]
    Item.objects.filter(pk=book.pk).update(current_site=sui_branch)
    assert_broken("item_in_transit_matches_transfer", book.pk)


def test_it_names_an_open_line_of_a_cancelled_transfer(county):
    Transfer.objects.filter(pk=county.draft.pk).update(status=Transfer.Status.CANCELLED)
    line = TransferLine.objects.get(transfer=county.draft)
    assert_broken("transfer_line_open_matches_transfer", line.pk)


def test_it_names_a_closed_line_of_a_dispatched_transfer(county):
    line = TransferLine.objects.filter(transfer=county.moving).order_by("pk").first()
    TransferLine.objects.filter(pk=line.pk).update(is_open=False)
    assert_broken("transfer_line_open_matches_transfer", line.pk)


def test_it_names_an_item_with_two_open_loans(county, wang, li):
    drop_index("one_open_loan_per_item")
    book = county.books[0]
    loan = Loan.objects.get(item=book)
    Loan.objects.create(
        library=loan.library,
        item=book,
        patron=li,
        site=loan.site,
        checked_out_at=loan.checked_out_at,
        due_at=loan.due_at,
    )
    assert_broken("one_open_loan_per_item", book.pk)


def test_it_names_an_item_on_two_open_transfers(county, sui_librarian, sui_central, sui_branch):
    drop_index("one_open_transfer_per_item")
    book = county.books[3]
    second = transfer_create(
        user=sui_librarian,
        source=sui_central,
        destination=sui_branch,
        reason=Transfer.Reason.ROTATION,
    )
    TransferLine.objects.create(library=second.library, transfer=second, item=book)
    assert_broken("one_open_transfer_per_item", book.pk)


def test_it_names_a_box_split_across_two_sites(county, sui_branch):
    book = county.books[5]
    Item.objects.filter(pk=book.pk).update(current_site=sui_branch)
    assert_broken("box_on_one_site", county.box.pk)


def test_it_names_a_box_partly_in_transit(county):
    Item.objects.filter(pk=county.books[1].pk).update(box=county.box)
    assert_broken("box_on_one_site", county.box.pk)


def test_it_names_a_trapped_copy_away_from_the_pickup_site(county, sui_branch):
    Hold.objects.filter(pk=county.on_shelf.pk).update(pickup_site=sui_branch)
    assert_broken("trapped_hold_item_placed", county.on_shelf.pk)


def test_it_names_a_trapped_copy_travelling_somewhere_else(county, xiaolin_site):
    Hold.objects.filter(pk=county.travelling.pk).update(pickup_site=xiaolin_site)
    assert_broken("trapped_hold_item_placed", county.travelling.pk)


def test_it_names_a_trapped_copy_that_is_on_loan(county):
    book = county.on_shelf.item
    Item.objects.filter(pk=book.pk).update(status=Item.Status.ON_LOAN)
    assert_broken("trapped_hold_item_placed", county.on_shelf.pk)


def lend_raw(patron, site, books):
    now = timezone.now()
    for book in books:
        Loan.objects.create(
            library=site.library,
            item=book,
            patron=patron,
            site=site,
            checked_out_at=now,
            due_at=now + timezone.timedelta(days=30),
        )


def test_it_names_a_reader_over_the_loan_limit(county, wang, sui_central, sui_consignment):
    extra = [make_item(sui_consignment, sui_central, f"NL3100{n:04}") for n in range(3)]
    lend_raw(wang, sui_central, extra)  # 1 + 3 open loans, and students may borrow 3
    assert_broken("loan_limit", wang.pk)


def test_loans_at_a_more_generous_kind_of_site_are_within_the_limit(
    county, wang, xiaolin_site, sui_central, sui_consignment
):
    LoanRule.objects.create(
        library=xiaolin_site.library,
        category=Patron.Category.STUDENT,
        site_kind=Site.Kind.SERVICE_POINT,
        loan_days=30,
        max_items=5,
    )
    extra = [make_item(sui_consignment, sui_central, f"NL3100{n:04}") for n in range(3)]
    lend_raw(wang, xiaolin_site, extra)  # 1 loan at the central library, 3 at a service point
    assert "loan_limit" not in {v.name for v in find_violations()}
    LoanRule.objects.filter(site_kind=Site.Kind.SERVICE_POINT).update(max_items=3)
    assert_broken("loan_limit", wang.pk)


def test_it_names_a_reader_with_loans_but_no_rule(county, wang):
    LoanRule.objects.filter(category=wang.category).delete()
    assert_broken("loan_limit", wang.pk)


def test_it_names_an_item_moved_without_history(county, sui_branch):
    book = county.books[6]
    Item.objects.filter(pk=book.pk).update(current_site=sui_branch, box=None)
    assert_broken("item_history_matches_item", book.pk)


def test_it_names_an_item_whose_status_changed_without_history(county):
    book = county.books[4]
    Item.objects.filter(pk=book.pk).update(status=Item.Status.MISSING)
    assert_broken("item_history_matches_item", book.pk)


def test_it_names_an_item_never_recorded_that_is_no_longer_as_created(
    county, sui_consignment, sui_central, sui_branch
):
    fresh = make_item(sui_consignment, sui_central, "NL32000001")
    assert_clean()  # on the shelf at home, as created
    Item.objects.filter(pk=fresh.pk).update(current_site=sui_branch)
    assert_broken("item_history_matches_item", fresh.pk)


def test_it_names_an_item_in_transit_whose_history_puts_it_at_the_destination(county):
    book = county.books[1]
    last = ItemEvent.objects.filter(item=book).order_by("-at", "-id").first()
    assert (last.to_status, last.to_site) == (Item.Status.IN_TRANSIT, county.moving.source)
    ItemEvent.objects.filter(pk=last.pk).update(to_site=county.moving.destination)
    assert_broken("item_history_matches_item", book.pk)


def test_history_is_read_in_time_then_id_order(county, sui_branch):
    book = county.books[5]
    last = ItemEvent.objects.filter(item=book).order_by("-at", "-id").first()
    ItemEvent.objects.create(
        library=last.library,
        item=book,
        kind=ItemEvent.Kind.STATUS_CHANGED,
        at=last.at,
        from_status=last.to_status,
        to_status=Item.Status.DAMAGED,
        from_site=last.to_site,
        to_site=last.to_site,
    )
    assert_broken("item_history_matches_item", book.pk)


def test_it_names_an_item_standing_at_another_librarys_site(county, zengdu_central):
    book = county.books[4]
    Item.objects.filter(pk=book.pk).update(home_site=zengdu_central)
    assert_broken("item_in_one_library", book.pk)


def test_it_names_a_loan_to_another_librarys_reader(county, zengdu_reader):
    loan = Loan.objects.open().get(item=county.books[0])
    Loan.objects.filter(pk=loan.pk).update(patron=zengdu_reader)
    assert_broken("loan_in_one_library", loan.pk)


def test_it_names_a_transfer_to_another_librarys_site(county, zengdu_central):
    Transfer.objects.filter(pk=county.draft.pk).update(destination=zengdu_central)
    assert_broken("transfer_in_one_library", county.draft.pk)


def test_it_names_a_transfer_carrying_another_librarys_item(county):
    line = TransferLine.objects.get(transfer=county.draft)
    TransferLine.objects.filter(pk=line.pk).update(item=county.zengdu_item)
    assert_broken("transfer_in_one_library", county.draft.pk)


def test_it_names_an_empty_consignment_left_by_a_failed_import(county, nlc, suixian):
    empty = Consignment.objects.create(
        library=suixian,
        lender=nlc,
        reference="NLC-2026-EMPTY",
        agreement_date=timezone.localdate(),
        status=Consignment.Status.RECEIVING,
    )
    assert_broken("no_empty_consignment", empty.pk)
    Consignment.objects.filter(pk=empty.pk).update(status=Consignment.Status.ANNOUNCED)
    assert find_violations() == []


def test_it_lists_ten_examples_and_counts_them_all(county, sui_consignment, sui_central):
    books = [make_item(sui_consignment, sui_central, f"NL3300{n:04}") for n in range(12)]
    Item.objects.filter(pk__in=[book.pk for book in books]).update(status=Item.Status.ON_LOAN)
    broken = assert_broken("item_on_loan_matches_open_loan", books[0].pk)
    count, examples = broken["item_on_loan_matches_open_loan"]
    assert count == 12
    assert examples == sorted(book.pk for book in books)[:EXAMPLES]
    code, out = run()
    # Loans, history and the holdings summary all disagree with the raw update.
    assert out.splitlines()[-1].startswith(f"共检查 {len(CHECKS)} 条不变量，3 条不成立")


def test_library_option_ignores_another_librarys_breakage(county):
    zengdu_item = county.zengdu_item
    Item.objects.filter(pk=zengdu_item.pk).update(status=Item.Status.ON_LOAN)
    assert run("--library", "SUIXIAN")[0] == 0
    assert find_violations(library="SUIXIAN") == []
    assert_broken("item_on_loan_matches_open_loan", zengdu_item.pk, "--library", "ZENGDU")
    assert_broken("item_on_loan_matches_open_loan", zengdu_item.pk)


def test_library_option_refuses_an_unknown_code(db):
    code, out = run("--library", "nowhere")
    assert code == 1


def test_it_names_the_sites_whose_holdings_summary_disagrees_with_their_volumes(county, sui_branch):
    book = county.books[6]
    # A volume moved by hand in SQL: its history and the holdings summary both miss it.
    Item.objects.filter(pk=book.pk).update(current_site=sui_branch, box=None)
    broken = assert_broken("holdings_summary_matches_items", sui_branch.pk)
    assert book.current_site_id in broken["holdings_summary_matches_items"][1]


def test_it_names_a_site_with_a_holdings_row_no_volume_backs(county, sui_central):
    book = county.books[0]
    HoldingCount.objects.create(
        library_id=book.library_id,
        owner_id=book.owner_id,
        site_id=sui_central.pk,
        consignment_id=book.consignment_id,
        clc_top="Z",
        status=Item.Status.AVAILABLE,
        lent=False,
        volumes=1,
    )
    assert_broken("holdings_summary_matches_items", sui_central.pk)


def test_the_holdings_summary_folded_still_adds_up(county):
    rows = HoldingCount.objects.count()
    left = holdings_fold()
    assert left < rows  # the county's changes collapsed into one row per group
    assert not HoldingCount.objects.filter(volumes__lte=0).exists()
    assert_clean()
