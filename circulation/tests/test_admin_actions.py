"""Loans and holds in the admin: read-only records, returned or cancelled by actions that call
the desk's services."""

from django.contrib import admin
from django.urls import reverse

from circulation.models import Hold, Loan
from circulation.services.holds import hold_place
from circulation.services.loans import loan_checkout
from collections_app.models import Item, ItemEvent
from collections_app.services.transfers import (
    transfer_add_items,
    transfer_create,
    transfer_dispatch,
)


def run_action(client, model, action, objects):
    url = reverse(f"admin:circulation_{model}_changelist")
    data = {"action": action, "_selected_action": [obj.pk for obj in objects]}
    response = client.post(url, data, follow=True)  # the list page shows (and uses up) messages
    assert response.redirect_chain == [(url, 302)]
    return [(message.level_tag, message.message) for message in response.context["messages"]]


def test_a_loan_is_returned_in_the_admin_at_its_site(
    client, superuser, sui_librarian, sui_central, sui_item, wang
):
    loan = loan_checkout(
        user=sui_librarian, site=sui_central, barcode=sui_item.barcode, patron=wang
    ).loan
    client.force_login(superuser)
    assert run_action(client, "loan", "return_loans", [loan]) == [("success", "已归还 1 笔借阅。")]
    loan.refresh_from_db()
    assert (loan.returned_at is not None, loan.return_site) == (True, sui_central)
    assert Item.objects.get(pk=sui_item.pk).status == "available"
    assert ItemEvent.objects.filter(item=sui_item, kind="returned", user=superuser).exists()


def test_a_returned_loan_is_not_returned_again(
    client, superuser, sui_librarian, sui_central, sui_item, wang, li
):
    first = loan_checkout(
        user=sui_librarian, site=sui_central, barcode=sui_item.barcode, patron=wang
    ).loan
    client.force_login(superuser)
    run_action(client, "loan", "return_loans", [first])
    second = loan_checkout(
        user=sui_librarian, site=sui_central, barcode=sui_item.barcode, patron=li
    ).loan
    [(level, text)] = run_action(client, "loan", "return_loans", [first])
    assert level == "error" and "已经归还" in text
    second.refresh_from_db()
    assert second.is_open


def test_loans_cannot_be_edited_in_the_admin(
    client, superuser, sui_librarian, sui_central, sui_item, wang
):
    loan = loan_checkout(
        user=sui_librarian, site=sui_central, barcode=sui_item.barcode, patron=wang
    ).loan
    client.force_login(superuser)
    url = reverse("admin:circulation_loan_change", args=[loan.pk])
    assert client.post(url, {"returned_at_0": "2026-11-01"}).status_code == 403
    assert Loan.objects.get(pk=loan.pk).is_open


def test_a_hold_is_cancelled_in_the_admin_and_a_second_time_refused(
    client, superuser, sui_librarian, sui_central, sui_item, wang
):
    hold = hold_place(
        user=sui_librarian, patron=wang, title=sui_item.title, pickup_site=sui_central
    )
    client.force_login(superuser)
    assert run_action(client, "hold", "cancel_holds", [hold]) == [("success", "已取消 1 条预约。")]
    assert Hold.objects.get(pk=hold.pk).status == "cancelled"
    [(level, _text)] = run_action(client, "hold", "cancel_holds", [hold])
    assert level == "error"


def test_a_hold_status_is_read_only_in_the_admin(
    client, superuser, sui_librarian, sui_central, sui_item, wang
):
    hold = hold_place(
        user=sui_librarian, patron=wang, title=sui_item.title, pickup_site=sui_central
    )
    client.force_login(superuser)
    url = reverse("admin:circulation_hold_change", args=[hold.pk])
    response = client.post(
        url,
        {
            "status": "fulfilled",
            "expires_at_0": "2030-01-01",
            "expires_at_1": "10:00:00",
        },
    )
    assert response.status_code == 302
    hold.refresh_from_db()
    assert hold.status == "trapped"
    assert hold.expires_at.year == 2030


def test_every_change_page_opens_with_its_read_only_fields(
    client, superuser, sui_librarian, sui_central, xiaolin_site, sui_item, xiaolin_item, wang
):
    loan_checkout(user=sui_librarian, site=sui_central, barcode=sui_item.barcode, patron=wang)
    hold_place(user=sui_librarian, patron=wang, title=xiaolin_item.title, pickup_site=sui_central)
    transfer = transfer_create(
        user=sui_librarian, source=xiaolin_site, destination=sui_central, reason="hold"
    )
    transfer_add_items(user=sui_librarian, transfer=transfer, items=[xiaolin_item])
    transfer_dispatch(user=sui_librarian, transfer=transfer)
    client.force_login(superuser)
    opened = []
    for model in admin.site._registry:
        obj = model._default_manager.order_by("pk").first()
        if obj is None:
            continue
        opts = model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        assert client.get(url).status_code == 200, opts.label
        opened.append(opts.label)
    assert {
        "collections_app.Item",
        "collections_app.Transfer",
        "collections_app.TransferLine",
        "collections_app.Consignment",
        "circulation.Loan",
        "circulation.Hold",
        "circulation.Patron",
    } <= set(opened)
