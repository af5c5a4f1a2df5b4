"""Holds on the reader's page: the cancel button and the cancel view ask the same predicate
as the service (accounts.scope.can_cancel_hold)."""

import pytest
from django.urls import reverse

from circulation.models import Hold
from conftest import make_item


@pytest.fixture
def holds(sui_consignment, sui_central, xiaolin_site, wang):
    """wang, registered at the central library, waits for two titles: one to pick up at the
    central library, one at the 小林一中 service point."""
    made = {}
    for pickup, barcode in ((sui_central, "NL72000001"), (xiaolin_site, "NL72000002")):
        item = make_item(sui_consignment, sui_central, barcode, title=f"书{barcode}")
        made[pickup.code] = Hold.objects.create(
            library=wang.library,
            patron=wang,
            title=item.title,
            pickup_site=pickup,
            expires_at="2099-01-01T00:00:00Z",
        )
    return made


def test_site_staff_see_and_use_the_cancel_button_only_for_holds_of_their_sites(
    client_for, xiaolin_volunteer, wang, holds
):
    client = client_for(xiaolin_volunteer)
    urls = {code: reverse("circulation:hold-cancel", args=[h.pk]) for code, h in holds.items()}
    page = client.get(reverse("circulation:patron-detail", args=[wang.pk])).content.decode()
    assert urls["xiaolin"] in page and urls["central"] not in page
    assert client.post(urls["central"]).status_code == 403
    assert Hold.objects.get(pk=holds["central"].pk).status == "waiting"
    assert client.post(urls["xiaolin"]).status_code == 302
    assert Hold.objects.get(pk=holds["xiaolin"].pk).status == "cancelled"


def test_librarians_see_the_cancel_button_for_every_hold(client_for, sui_librarian, wang, holds):
    page = client_for(sui_librarian).get(reverse("circulation:patron-detail", args=[wang.pk]))
    for hold in holds.values():
        assert reverse("circulation:hold-cancel", args=[hold.pk]) in page.content.decode()


def test_a_readers_page_lists_each_loan_whole_with_its_renew_button(
    client_for, sui_librarian, sui_central, wang, sui_item
):
    from circulation.services.loans import loan_checkout

    loan = loan_checkout(
        user=sui_librarian, site=sui_central, patron=wang, barcode=sui_item.barcode
    ).loan
    response = client_for(sui_librarian).get(reverse("circulation:patron-detail", args=[wang.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert sui_item.barcode in page and sui_central.name in page
    assert reverse("circulation:loan-renew", args=[loan.pk]) in page
