"""The admin: every model there for a superuser, edits leave history, item history is read-only."""

import pytest
from django.contrib import admin
from django.urls import reverse

from collections_app.models import Item, ItemEvent


@pytest.mark.parametrize(
    "model",
    list(admin.site._registry),
    ids=lambda model: model._meta.label,
)
def test_every_model_has_a_working_admin_list(client, superuser, sui_item, model):
    client.force_login(superuser)
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client.get(url, {"q": "随县"}).status_code == 200


def test_every_domain_model_is_registered():
    labels = {model._meta.label for model in admin.site._registry}
    assert {
        "collections_app.Library",
        "collections_app.Site",
        "collections_app.Display",
        "collections_app.Consignment",
        "collections_app.Title",
        "collections_app.Item",
        "collections_app.Transfer",
        "collections_app.TransferLine",
        "collections_app.ItemEvent",
        "circulation.Patron",
        "circulation.LoanRule",
        "circulation.Loan",
        "circulation.Hold",
        "circulation.ClosedDay",
        "collections_app.Box",
        "collections_app.RotationPlan",
        "collections_app.RotationMember",
        "collections_app.ConsignmentImport",
        "collections_app.AwaitingBarcodes",
        "collections_app.ReceiptEntry",
        "reports.PeriodReport",
        "accounts.User",
    } <= labels


def test_an_admin_fix_is_kept_with_who_made_it(client, superuser, sui_item, sui_branch):
    client.force_login(superuser)
    url = reverse("admin:collections_app_item_change", args=[sui_item.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update({"current_site": sui_branch.pk, "status_changed_at_0": "2026-11-01"})
    data["status_changed_at_1"] = "10:00:00"
    data.pop("status_changed_at", None)
    data.pop("last_loan_at", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    latest = Item.history.filter(id=sui_item.pk).latest()
    assert latest.current_site_id == sui_branch.pk
    assert latest.history_user == superuser
    history_page = client.get(reverse("admin:collections_app_item_history", args=[sui_item.pk]))
    assert history_page.status_code == 200


def test_item_history_cannot_be_edited_or_deleted_in_the_admin(client, superuser, sui_item):
    event = ItemEvent.objects.create(
        library=sui_item.library, item=sui_item, kind="received", to_status="available"
    )
    client.force_login(superuser)
    change = client.post(
        reverse("admin:collections_app_itemevent_change", args=[event.pk]), {"note": "改"}
    )
    assert change.status_code == 403
    delete = client.post(
        reverse("admin:collections_app_itemevent_delete", args=[event.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    assert ItemEvent.objects.get(pk=event.pk).note == ""


def test_a_county_librarian_cannot_enter_the_admin(client, sui_librarian):
    client.force_login(sui_librarian)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
