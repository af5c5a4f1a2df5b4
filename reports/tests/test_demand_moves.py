"""Beside the rotation suggestions: titles readers wait for at one site while a copy stands idle
at another, and the draft transfer that brings it."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from circulation.models import Hold
from collections_app.models import Item, Transfer
from conftest import make_item
from reports.demand import demand_moves, demand_record
from reports.tests.helpers import make_patron

pytestmark = pytest.mark.django_db
URL = "/collections/suggestions/"


@pytest.fixture
def waited(suixian, sui_central, xiaolin_site, sui_consignment):
    """A reader at 小林一中 waits for 活着; a copy has stood unborrowed at the central library."""
    idle = make_item(sui_consignment, sui_central, "NL1", title="活着", clc="I247.57")
    reader = make_patron(suixian, xiaolin_site, "SX1", name="张三")
    now = timezone.now()
    Hold.objects.create(
        library=suixian,
        patron=reader,
        title=idle.title,
        pickup_site=xiaolin_site,
        placed_at=now - timedelta(days=20),
        expires_at=now + timedelta(days=70),
    )
    return idle


def test_a_copy_idle_at_one_site_is_offered_to_the_site_where_a_reader_waits(
    waited, suixian, xiaolin_site, sui_central
):
    moves = demand_moves(suixian, idle_days=90)
    assert [(m.item, m.source, m.destination, m.holds_waiting) for m in moves] == [
        (waited, sui_central, xiaolin_site, 1)
    ]


def test_a_copy_borrowed_lately_or_kept_or_already_there_is_not_offered(
    waited, suixian, xiaolin_site, sui_consignment
):
    waited.last_loan_at = timezone.now() - timedelta(days=10)
    waited.save(update_fields=["last_loan_at"])
    assert demand_moves(suixian, idle_days=90) == []
    waited.last_loan_at = timezone.now() - timedelta(days=200)
    waited.save(update_fields=["last_loan_at"])
    assert len(demand_moves(suixian, idle_days=90)) == 1
    assert demand_moves(suixian, idle_days=365) == []
    waited.current_site = xiaolin_site  # already where the reader waits
    waited.save(update_fields=["current_site"])
    assert demand_moves(suixian, idle_days=90) == []


def test_searches_that_found_every_copy_out_count_as_demand_at_their_site(
    suixian, sui_central, sui_branch, sui_consignment
):
    idle = make_item(sui_consignment, sui_central, "NL2", title="平凡的世界", clc="I247.57")
    demand_record(
        library=suixian,
        site=sui_branch,
        query="平凡的世界",
        outcome="queued",
        title=idle.title,
        times=3,
    )
    moves = demand_moves(suixian, idle_days=90)
    assert [(m.item, m.destination, m.holds_waiting, m.queued_searches) for m in moves] == [
        (idle, sui_branch, 0, 3)
    ]


def test_the_librarian_sees_it_beside_the_suggestions_and_drafts_the_transfer(
    waited, client_for, sui_librarian, xiaolin_site, sui_central
):
    client = client_for(sui_librarian)
    html = client.get(URL).content.decode()
    assert "一站有人等、另一站闲置的图书" in html and "活着" in html and "NL1" in html
    assert "张三" not in html
    response = client.post(
        "/collections/suggestions/demand-move/",
        {"item": waited.pk, "destination": xiaolin_site.pk},
    )
    transfer = Transfer.objects.get()
    assert response.status_code == 302 and response.url == f"/collections/transfers/{transfer.pk}/"
    assert (transfer.source, transfer.destination, transfer.status) == (
        sui_central,
        xiaolin_site,
        Transfer.Status.DRAFT,
    )
    assert list(transfer.lines.values_list("item", flat=True)) == [waited.pk]
    assert transfer.note == "读者需求：小林一中的读者在等《活着》"
    # The copy is on an open transfer now: no longer offered, and a second click changes nothing.
    assert demand_moves(waited.library, idle_days=90) == []
    client.post(
        "/collections/suggestions/demand-move/",
        {"item": waited.pk, "destination": xiaolin_site.pk},
    )
    assert Transfer.objects.count() == 1
    call_command("check_integrity")


def test_another_countys_librarian_cannot_move_the_copy(
    waited, client_for, zengdu_librarian, xiaolin_site, xiaolin_volunteer
):
    response = client_for(zengdu_librarian).post(
        "/collections/suggestions/demand-move/",
        {"item": waited.pk, "destination": xiaolin_site.pk},
    )
    assert response.status_code == 404
    response = client_for(xiaolin_volunteer).post(
        "/collections/suggestions/demand-move/",
        {"item": waited.pk, "destination": xiaolin_site.pk},
    )
    assert response.status_code == 403
    assert not Transfer.objects.exists()
    assert Item.objects.get(pk=waited.pk).status == Item.Status.AVAILABLE
