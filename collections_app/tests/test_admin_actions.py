"""The fixes a superuser makes in the admin are actions that call the services: each leaves the
item history, and a refusal is said on the page, never a server error."""

import pytest
from django.urls import reverse

from collections_app.models import Item, ItemEvent
from collections_app.services.transfers import (
    transfer_add_items,
    transfer_create,
    transfer_dispatch,
    transfer_receive,
)
from conftest import make_item


@pytest.fixture
def shelf(sui_consignment, sui_central):
    return [make_item(sui_consignment, sui_central, f"NL3000000{n}") for n in range(3)]


def run_action(client, model, action, objects, **extra):
    url = reverse(f"admin:collections_app_{model}_changelist")
    data = {"action": action, "_selected_action": [obj.pk for obj in objects], **extra}
    response = client.post(url, data, follow=True)  # the list page shows (and uses up) messages
    assert response.redirect_chain == [(url, 302)]
    return [(message.level_tag, message.message) for message in response.context["messages"]]


@pytest.mark.parametrize("status", ["missing", "damaged", "withdrawn"])
def test_marking_items_in_the_admin_leaves_their_history(client, superuser, shelf, status):
    client.force_login(superuser)
    said = run_action(client, "item", f"mark_{status}", shelf[:2], note="盘点")
    assert said == [("success", f"已将 2 册图书标记为{Item.Status(status).label}。")]
    assert [Item.objects.get(pk=item.pk).status for item in shelf] == [status] * 2 + ["available"]
    events = ItemEvent.objects.filter(kind="status_changed", user=superuser, note="盘点")
    assert events.count() == 2


def test_a_found_item_is_back_on_the_shelf(client, superuser, shelf):
    client.force_login(superuser)
    run_action(client, "item", "mark_missing", shelf[:1])
    said = run_action(client, "item", "mark_available", shelf[:1])
    assert said == [("success", "已将 1 册图书恢复为在架。")]
    assert Item.objects.get(pk=shelf[0].pk).status == "available"
    assert ItemEvent.objects.filter(item=shelf[0]).count() == 2


def test_a_refused_mark_is_said_and_changes_nothing(
    client, superuser, sui_librarian, sui_central, xiaolin_site, shelf
):
    transfer = transfer_create(
        user=sui_librarian, source=sui_central, destination=xiaolin_site, reason="rotation"
    )
    transfer_add_items(user=sui_librarian, transfer=transfer, items=shelf[:1])
    client.force_login(superuser)
    [(level, text)] = run_action(client, "item", "mark_missing", shelf)
    assert level == "error"
    assert shelf[0].barcode in text and f"#{transfer.pk}" in text
    assert [Item.objects.get(pk=item.pk).status for item in shelf] == ["available"] * 3
    assert not ItemEvent.objects.exists()


def test_cancelling_a_dispatched_transfer_in_the_admin_brings_its_items_back(
    client, superuser, sui_librarian, sui_central, xiaolin_site, shelf
):
    transfer = transfer_create(
        user=sui_librarian, source=sui_central, destination=xiaolin_site, reason="rotation"
    )
    transfer_add_items(user=sui_librarian, transfer=transfer, items=shelf)
    transfer_dispatch(user=sui_librarian, transfer=transfer)
    client.force_login(superuser)
    said = run_action(client, "transfer", "cancel_transfers", [transfer])
    assert said == [("success", "已取消 1 张调拨单。")]
    transfer.refresh_from_db()
    assert transfer.status == "cancelled"
    assert not transfer.lines.filter(is_open=True).exists()
    assert [Item.objects.get(pk=item.pk).status for item in shelf] == ["available"] * 3
    cancelled = ItemEvent.objects.filter(kind="transfer_cancelled", transfer=transfer)
    assert cancelled.count() == 3


def test_a_finished_transfer_cannot_be_cancelled_in_the_admin(
    client, superuser, sui_librarian, sui_central, xiaolin_site, shelf
):
    transfer = transfer_create(
        user=sui_librarian, source=sui_central, destination=xiaolin_site, reason="rotation"
    )
    transfer_add_items(user=sui_librarian, transfer=transfer, items=shelf[:1])
    transfer_dispatch(user=sui_librarian, transfer=transfer)
    transfer_receive(
        user=sui_librarian, transfer=transfer, site=xiaolin_site, barcodes=[shelf[0].barcode]
    )
    client.force_login(superuser)
    [(level, text)] = run_action(client, "transfer", "cancel_transfers", [transfer])
    assert level == "error" and "已完结" in text
    transfer.refresh_from_db()
    assert transfer.status == "received"
    assert Item.objects.get(pk=shelf[0].pk).current_site == xiaolin_site
