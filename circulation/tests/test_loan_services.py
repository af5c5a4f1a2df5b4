"""Checkout, return anywhere with its routing, renewal: the services."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from circulation.models import ClosedDay, Hold, Loan, LoanRule
from circulation.services.loans import loan_checkout, loan_renew, loan_return
from circulation.services.routing import Action
from collections_app.errors import Refused
from collections_app.models import Display, Item, ItemEvent, Transfer, TransferLine
from collections_app.services.transfers import transfer_create, transfer_dispatch
from conftest import make_item

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def books(sui_consignment, sui_central):
    return [make_item(sui_consignment, sui_central, f"NL2000000{n}") for n in range(5)]


def item(obj):
    return Item.objects.get(pk=obj.pk)


def test_checkout_writes_the_loan_the_item_status_and_its_history(
    sui_librarian, sui_central, wang, books
):
    done = loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")
    assert not done.already
    loan = Loan.objects.get()
    assert (loan.item_id, loan.patron_id, loan.site_id) == (books[0].pk, wang.pk, sui_central.pk)
    assert item(books[0]).status == "on_loan"
    event = ItemEvent.objects.get(item=books[0])
    assert (event.kind, event.from_status, event.to_status) == (
        "checked_out",
        "available",
        "on_loan",
    )
    assert event.user == sui_librarian


@time_machine.travel(datetime(2024, 4, 28, 10, 0, tzinfo=SHANGHAI), tick=False)
def test_the_due_date_is_the_end_of_the_day_and_skips_closed_days(
    sui_librarian, sui_central, wang, books
):
    # 30 days from 28 April is 28 May; the site is closed that day and the library the next.
    ClosedDay.objects.create(library=sui_central.library, site=sui_central, date=date(2024, 5, 28))
    ClosedDay.objects.create(library=sui_central.library, date=date(2024, 5, 29))
    done = loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")
    due = timezone.localtime(done.loan.due_at, SHANGHAI)
    assert (due.date(), due.hour, due.minute) == (date(2024, 5, 30), 23, 59)


@time_machine.travel(datetime(2024, 4, 28, 10, 0, tzinfo=SHANGHAI), tick=False)
@pytest.mark.parametrize(
    "closed, due_day",
    [
        # Another site's closed day, or one already past, leaves the due day alone.
        ([("branch", date(2024, 5, 28))], date(2024, 5, 28)),
        ([("here", date(2024, 4, 27)), ("library", date(2024, 4, 1))], date(2024, 5, 28)),
        # Closed today only: open again long before the loan is due.
        ([("here", date(2024, 4, 28))], date(2024, 5, 28)),
        # The library's closed day and this site's, run together over the due day.
        ([("library", date(2024, 5, 28)), ("here", date(2024, 5, 29))], date(2024, 5, 30)),
        ([("here", date(2024, 5, 28)), ("branch", date(2024, 5, 29))], date(2024, 5, 29)),
    ],
)
def test_only_this_sites_and_the_librarys_closed_days_ahead_move_the_due_day(
    sui_librarian, sui_central, sui_branch, wang, books, closed, due_day
):
    where = {"here": sui_central, "branch": sui_branch, "library": None}
    for site, day in closed:
        ClosedDay.objects.create(library=sui_central.library, site=where[site], date=day)
    done = loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")
    assert timezone.localtime(done.loan.due_at, SHANGHAI).date() == due_day


def test_a_reader_whose_category_has_no_rule_is_refused(sui_librarian, sui_central, wang, books):
    LoanRule.objects.filter(category=wang.category).delete()
    with pytest.raises(Refused, match="还没有设置这类读者的借阅规则"):
        loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")
    assert not Loan.objects.exists()


def test_scanning_the_same_checkout_twice_makes_one_loan(sui_librarian, sui_central, wang, books):
    loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")
    again = loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")
    assert again.already
    assert Loan.objects.count() == 1


def test_it_refuses_an_item_on_loan_to_someone_else(sui_librarian, sui_central, wang, li, books):
    loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")
    with pytest.raises(Refused, match="已借给其他读者"):
        loan_checkout(user=sui_librarian, site=sui_central, patron=li, barcode="NL20000000")


def test_it_refuses_checkout_of_an_item_in_transit(
    sui_librarian, sui_central, sui_branch, wang, books
):
    transfer = transfer_create(
        user=sui_librarian, source=sui_central, destination=sui_branch, reason="rotation"
    )
    TransferLine.objects.create(library=transfer.library, transfer=transfer, item=books[0])
    transfer_dispatch(user=sui_librarian, transfer=transfer)
    with pytest.raises(Refused, match="调拨途中"):
        loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")


def test_it_refuses_a_suspended_reader(sui_librarian, sui_central, wang, books):
    wang.is_suspended = True
    wang.suspended_reason = "遗失图书未赔"
    wang.save()
    with pytest.raises(Refused, match="已暂停.*遗失图书未赔"):
        loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")


def test_it_refuses_past_the_limit_of_the_rule(sui_librarian, sui_central, wang, books):
    for book in books[:3]:
        loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode=book.barcode)
    with pytest.raises(Refused, match="达到学生读者的上限 3 册"):
        loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000003")


def test_a_site_kind_rule_wins_over_the_general_rule(
    sui_librarian, xiaolin_site, sui_consignment, wang
):
    LoanRule.objects.create(
        library=xiaolin_site.library,
        category="student",
        site_kind="service_point",
        loan_days=14,
        max_items=1,
    )
    make_item(sui_consignment, xiaolin_site, "NL30000001")
    make_item(sui_consignment, xiaolin_site, "NL30000002")
    loan_checkout(user=sui_librarian, site=xiaolin_site, patron=wang, barcode="NL30000001")
    with pytest.raises(Refused, match="上限 1 册"):
        loan_checkout(user=sui_librarian, site=xiaolin_site, patron=wang, barcode="NL30000002")


def test_overdue_items_block_new_loans_when_the_rule_says_so(
    sui_librarian, sui_central, wang, books, loan_rules
):
    with time_machine.travel(timezone.now() - timedelta(days=40)):
        loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")
    with pytest.raises(Refused, match="1 册图书逾期未还"):
        loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000001")
    LoanRule.objects.update(blocks_when_overdue=False)
    loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000001")


def test_it_refuses_an_item_of_another_library(sui_librarian, sui_central, wang, zengdu_item):
    with pytest.raises(Refused, match="不是本馆的图书"):
        loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL00900001")


def test_a_card_number_in_the_item_box_is_named_as_such(sui_librarian, sui_central, wang, li):
    with pytest.raises(Refused, match="是读者证号"):
        loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode=li.card_number)


def test_it_refuses_an_item_recorded_at_another_site(sui_librarian, xiaolin_site, wang, books):
    with pytest.raises(Refused, match="不在本站"):
        loan_checkout(user=sui_librarian, site=xiaolin_site, patron=wang, barcode="NL20000000")


def test_site_staff_lend_only_at_their_own_site(
    xiaolin_volunteer, sui_central, xiaolin_site, wang, books, xiaolin_item
):
    with pytest.raises(Refused, match="不能在“随县图书馆总馆”办理借还"):
        loan_checkout(user=xiaolin_volunteer, site=sui_central, patron=wang, barcode="NL20000000")
    loan_checkout(user=xiaolin_volunteer, site=xiaolin_site, patron=wang, barcode="NL00000002")


def test_a_loan_from_a_display_records_the_display(sui_librarian, sui_central, wang, books):
    display = Display.objects.create(
        library=sui_central.library, site=sui_central, name="国图专架", starts_on=date(2020, 1, 1)
    )
    Item.objects.filter(pk=books[0].pk).update(display=display)
    done = loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")
    assert done.loan.display == display


# Return anywhere


def test_a_return_at_home_says_shelve(sui_librarian, sui_central, wang, books):
    loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")
    done = loan_return(user=sui_librarian, site=sui_central, barcode="NL20000000")
    assert done.routing.action == Action.SHELVE
    loan = Loan.objects.get()
    assert loan.returned_at is not None and loan.return_site == sui_central
    assert item(books[0]).status == "available"
    assert ItemEvent.objects.filter(item=books[0], kind="returned").count() == 1


def test_a_return_elsewhere_goes_on_one_return_home_draft(
    sui_librarian, xiaolin_volunteer, sui_central, xiaolin_site, wang, books
):
    for book in books[:2]:
        loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode=book.barcode)
    first = loan_return(user=xiaolin_volunteer, site=xiaolin_site, barcode="NL20000000")
    second = loan_return(user=xiaolin_volunteer, site=xiaolin_site, barcode="NL20000001")
    assert first.routing.action == second.routing.action == Action.SEND_HOME
    assert "随县图书馆总馆" in first.routing.message
    transfer = Transfer.objects.get()
    assert first.routing.transfer == second.routing.transfer == transfer
    assert (transfer.source, transfer.destination, transfer.reason, transfer.status) == (
        xiaolin_site,
        sui_central,
        "return_home",
        "draft",
    )
    assert transfer.lines.count() == 2
    returned = item(books[0])
    assert (returned.status, returned.current_site, returned.home_site) == (
        "available",
        xiaolin_site,
        sui_central,
    )


def test_scanning_a_return_twice_is_harmless(
    sui_librarian, xiaolin_volunteer, sui_central, xiaolin_site, wang, books
):
    loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")
    loan_return(user=xiaolin_volunteer, site=xiaolin_site, barcode="NL20000000")
    again = loan_return(user=xiaolin_volunteer, site=xiaolin_site, barcode="NL20000000")
    assert again.already
    assert again.routing.action == Action.SEND_HOME
    assert Transfer.objects.get().lines.count() == 1
    assert ItemEvent.objects.filter(item=books[0], kind="returned").count() == 1


def test_a_return_to_a_running_display_here_stays(sui_librarian, sui_central, wang, books):
    display = Display.objects.create(
        library=sui_central.library, site=sui_central, name="精品展柜", starts_on=date(2020, 1, 1)
    )
    Item.objects.filter(pk=books[0].pk).update(display=display)
    loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")
    done = loan_return(user=sui_librarian, site=sui_central, barcode="NL20000000")
    assert done.routing.action == Action.DISPLAY


def test_a_display_at_the_return_site_keeps_a_book_from_elsewhere(
    sui_librarian, sui_central, xiaolin_site, sui_consignment, wang
):
    display = Display.objects.create(
        library=xiaolin_site.library, site=xiaolin_site, name="国图专架", starts_on=date(2020, 1, 1)
    )
    book = make_item(sui_consignment, xiaolin_site, "NL30000009", display=display)
    Item.objects.filter(pk=book.pk).update(home_site=sui_central)
    loan_checkout(user=sui_librarian, site=xiaolin_site, patron=wang, barcode="NL30000009")
    done = loan_return(user=sui_librarian, site=xiaolin_site, barcode="NL30000009")
    assert done.routing.action == Action.DISPLAY
    assert not Transfer.objects.exists()


def test_checkout_takes_a_book_back_off_the_return_draft(
    sui_librarian, xiaolin_volunteer, sui_central, xiaolin_site, wang, li, books
):
    loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")
    loan_return(user=xiaolin_volunteer, site=xiaolin_site, barcode="NL20000000")
    loan_checkout(user=xiaolin_volunteer, site=xiaolin_site, patron=li, barcode="NL20000000")
    assert not TransferLine.objects.exists()
    assert item(books[0]).status == "on_loan"


def test_a_return_of_a_book_not_on_loan_elsewhere_is_explained(
    xiaolin_volunteer, xiaolin_site, books
):
    with pytest.raises(Refused, match="不在本站"):
        loan_return(user=xiaolin_volunteer, site=xiaolin_site, barcode="NL20000000")


# Renewal


def test_renewal_extends_from_today_and_counts(sui_librarian, sui_central, wang, books):
    with time_machine.travel(timezone.now() - timedelta(days=20)):
        loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")
    before = Loan.objects.get().due_at
    loan = loan_renew(user=sui_librarian, site=sui_central, barcode="NL20000000")
    assert loan.renewals == 1 and loan.due_at > before
    assert ItemEvent.objects.filter(item=books[0], kind="renewed").count() == 1
    with pytest.raises(Refused, match="已续借 1 次，达到上限"):
        loan_renew(user=sui_librarian, site=sui_central, barcode="NL20000000")


def test_renewal_is_refused_when_a_reader_waits(sui_librarian, sui_central, wang, li, books):
    from circulation.services.holds import hold_place

    with time_machine.travel(timezone.now() - timedelta(days=20)):
        loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")
    for book in books[1:]:
        Item.objects.filter(pk=book.pk).update(status="withdrawn")
    hold_place(user=sui_librarian, patron=li, title=books[0].title, pickup_site=sui_central)
    with pytest.raises(Refused, match="有读者在预约"):
        loan_renew(user=sui_librarian, site=sui_central, barcode="NL20000000")


def test_renewal_right_after_checkout_says_it_would_not_help(
    sui_librarian, sui_central, wang, books
):
    loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")
    with pytest.raises(Refused, match="不会延长借期"):
        loan_renew(user=sui_librarian, site=sui_central, barcode="NL20000000")


def test_holds_table_is_untouched_by_plain_loans(sui_librarian, sui_central, wang, books):
    loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")
    assert not Hold.objects.exists()


# Every entry point refuses what the desk refuses


def test_no_desk_work_at_an_inactive_site(sui_librarian, sui_central, sui_branch, wang, books):
    loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")
    sui_branch.is_active = False
    sui_branch.save()
    for service, barcode in (
        (loan_checkout, "NL20000001"),
        (loan_return, "NL20000000"),
        (loan_renew, "NL20000000"),
    ):
        extra = {"patron": wang} if service is loan_checkout else {}
        with pytest.raises(Refused, match="已停用"):
            service(user=sui_librarian, site=sui_branch, barcode=barcode, **extra)
    assert Loan.objects.open().count() == 1
    assert item(books[0]).current_site == sui_central


def test_a_second_return_elsewhere_says_where_the_book_was_returned(
    sui_librarian, sui_central, xiaolin_site, wang, books
):
    loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")
    loan_return(user=sui_librarian, site=sui_central, barcode="NL20000000")
    with pytest.raises(Refused, match="已于 .* 在“随县图书馆总馆”归还"):
        loan_return(user=sui_librarian, site=xiaolin_site, barcode="NL20000000")
    assert ItemEvent.objects.filter(item=books[0], kind="returned").count() == 1


# The time of a change is read once the item is locked


def test_a_return_that_waited_for_a_checkout_closes_the_loan_after_it_began(
    sui_librarian, sui_central, wang, books
):
    """While the return waits for the item's lock, a desk lends the book and commits first (on
    PostgreSQL; here the checkout runs just before the return's first read of the item): the
    return closes that loan, and not at a time before it began."""
    waited = []

    def checkout_first(execute, sql, params, many, context):
        if not waited and 'FROM "collections_app_item"' in sql:
            waited.append(sql)
            loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(checkout_first):
        done = loan_return(user=sui_librarian, site=sui_central, barcode="NL20000000")
    assert waited and not done.already
    assert done.loan.returned_at >= done.loan.checked_out_at
    events = list(ItemEvent.objects.filter(item=books[0]).order_by("at", "id"))
    assert [e.kind for e in events] == ["checked_out", "returned"]


def test_a_renewal_writes_a_history_row_and_leaves_the_item_as_it_is(
    sui_librarian, sui_central, wang, books
):
    with time_machine.travel(timezone.now() - timedelta(days=20)):
        loan_checkout(user=sui_librarian, site=sui_central, patron=wang, barcode="NL20000000")
    loan_renew(user=sui_librarian, site=sui_central, barcode="NL20000000")
    event = ItemEvent.objects.get(item=books[0], kind="renewed")
    assert (event.from_status, event.to_status) == ("on_loan", "on_loan")
    assert event.from_site_id == event.to_site_id == sui_central.pk
    assert "续借至" in event.note
