"""The overdue list counts every overdue loan and reaches each of them page by page: it used to
stop at 2,000 rows, print "2000 册逾期" as the total and leave out the central library (its name
sorts last)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from circulation import dashboards
from circulation.models import Loan, Patron
from collections_app.models import Item
from conftest import make_item

BRANCH_LOANS = 1_950
CENTRAL_LOANS = 120


@pytest.fixture
def overdue_loans(sui_consignment, sui_central, sui_branch, loan_rules):
    readers = Patron.objects.bulk_create(
        Patron(
            library=sui_central.library,
            card_number=f"SX9{n:05}",
            name=f"读者{n}",
            category=Patron.Category.ADULT,
            home_site=sui_central,
        )
        for n in range(40)
    )
    first = make_item(sui_consignment, sui_branch, "NL80000000")
    items = [first] + Item.objects.bulk_create(
        Item(
            library=first.library,
            barcode=f"NL8{n:07}",
            title=first.title,
            consignment=sui_consignment,
            owner=first.owner,
            call_number=first.call_number,
            home_site=site,
            current_site=site,
            status=Item.Status.ON_LOAN,
        )
        for n in range(1, BRANCH_LOANS + CENTRAL_LOANS)
        for site in [sui_branch if n < BRANCH_LOANS else sui_central]
    )
    Item.objects.filter(pk=first.pk).update(status=Item.Status.ON_LOAN)
    now = timezone.now()
    Loan.objects.bulk_create(
        Loan(
            library=item.library,
            item=item,
            patron=readers[n % len(readers)],
            site=item.home_site,
            checked_out_at=now - timedelta(days=60),
            due_at=now - timedelta(days=30),
        )
        for n, item in enumerate(items)
    )
    return items


def barcodes(html):
    return set(re.findall(r"<code>(NL8\d{7})</code>", html))


def walk(client, query=""):
    """Every barcode on every page of the list, following its own next-page links."""
    seen, url, pages = set(), f"/overdue/?{query}", 0
    while url:
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        seen |= barcodes(html)
        pages += 1
        link = re.search(r'href="(\?[^"]*page=\d+)">下一页', html)
        url = "/overdue/" + link.group(1).replace("&amp;", "&") if link else None
        if link and query:
            assert query in link.group(1)
    return seen, pages


@pytest.mark.django_db
def test_the_overdue_list_counts_every_loan_and_pages_through_all_of_them(
    client_for, sui_librarian, overdue_loans
):
    client = client_for(sui_librarian)
    html = client.get("/overdue/").content.decode()
    assert f"{BRANCH_LOANS + CENTRAL_LOANS} 册逾期" in html
    assert "2000 册逾期" not in html
    assert "30 天" in html
    seen, pages = walk(client)
    assert seen == {item.barcode for item in overdue_loans}
    assert pages > 1
    # The home page's figure and the list agree.
    figures = dashboards.loan_figures(sui_librarian, timezone.now())
    assert figures["overdue"] == BRANCH_LOANS + CENTRAL_LOANS


@pytest.mark.django_db
def test_the_site_filter_is_kept_from_page_to_page(
    client_for, sui_librarian, overdue_loans, sui_central
):
    client = client_for(sui_librarian)
    html = client.get("/overdue/?site=central").content.decode()
    assert f"{CENTRAL_LOANS} 册逾期" in html
    seen, pages = walk(client, "site=central")
    assert seen == {item.barcode for item in overdue_loans if item.home_site_id == sui_central.pk}
    assert pages == 2


@pytest.mark.django_db
def test_the_notices_give_every_reader_one_notice_page_by_page(
    client_for, sui_librarian, overdue_loans
):
    client = client_for(sui_librarian)
    html = client.get("/overdue/notices/").content.decode()
    assert html.count('class="notice"') == 40
    assert barcodes(html) == {item.barcode for item in overdue_loans}
