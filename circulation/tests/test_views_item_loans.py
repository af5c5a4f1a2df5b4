"""The loans on an item's page: reader names for its own library, a count for everyone else."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from circulation.models import Loan, Patron


@pytest.fixture
def loan(sui_item, sui_central):
    patron = Patron.objects.create(
        library=sui_item.library,
        card_number="SX0001",
        name="张小明",
        category=Patron.Category.STUDENT,
        home_site=sui_central,
    )
    now = timezone.now()
    return Loan.objects.create(
        library=sui_item.library,
        item=sui_item,
        patron=patron,
        site=sui_central,
        checked_out_at=now - timedelta(days=3),
        due_at=now + timedelta(days=27),
    )


def item_page(client, item):
    return client.get(reverse("collections:item-detail", args=[item.barcode]))


def test_the_county_librarian_sees_who_borrowed_the_item(client_for, sui_librarian, loan):
    response = item_page(client_for(sui_librarian), loan.item)
    assert "SX0001 张小明" in response.content.decode()


@pytest.mark.parametrize("actor", ["hubei_reviewer", "nlc_lender"])
def test_lender_and_province_see_a_loan_count_but_no_reader(client_for, request, actor, loan):
    response = item_page(client_for(request.getfixturevalue(actor)), loan.item)
    html = response.content.decode()
    assert response.status_code == 200
    assert "张小明" not in html and "SX0001" not in html
    assert response.context["loan_count"] == 1
    assert "累计借阅 1 次" in html
