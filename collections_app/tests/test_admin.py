"""The admin: every model there for a superuser, edits leave history, item history is read-only."""

import pytest
from django.contrib import admin
from django.urls import reverse

from collections_app.models import Box, Display, Item, ItemEvent
from collections_app.services.stock import item_mark
from collections_app.services.transfers import transfer_add_items, transfer_create


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


def change_form_data(client, url, **changes):
    """What the admin's change form would post back, with `changes` typed in."""
    form = client.get(url).context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        if hasattr(form.fields[name], "fields"):  # split date and time
            for index, part in enumerate(form.fields[name].widget.decompress(value)):
                data[f"{name}_{index}"] = part
        else:
            data[name] = value
    data.update(changes)
    return data


def test_an_admin_fix_is_kept_with_who_made_it(client, superuser, sui_item):
    client.force_login(superuser)
    url = reverse("admin:collections_app_item_change", args=[sui_item.pk])
    response = client.post(url, change_form_data(client, url, call_number="C912.82/2"))
    assert response.status_code == 302, response.context["adminform"].form.errors
    latest = Item.history.filter(id=sui_item.pk).latest()
    assert latest.call_number == "C912.82/2"
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


def test_item_status_and_place_are_read_only_in_the_admin(client, superuser, sui_item, sui_branch):
    client.force_login(superuser)
    url = reverse("admin:collections_app_item_change", args=[sui_item.pk])
    data = change_form_data(
        client, url, status="missing", current_site=sui_branch.pk, call_number="C912.82/9"
    )
    response = client.post(url, data)
    assert response.status_code == 302
    sui_item.refresh_from_db()
    assert (sui_item.status, sui_item.current_site_id) == ("available", sui_item.home_site_id)
    assert sui_item.call_number == "C912.82/9"
    assert not ItemEvent.objects.filter(item=sui_item).exists()


def test_transfer_status_and_line_flag_are_read_only_in_the_admin(
    client, superuser, sui_librarian, sui_item, xiaolin_site
):
    transfer = transfer_create(
        user=sui_librarian,
        source=sui_item.current_site,
        destination=xiaolin_site,
        reason="rotation",
    )
    transfer_add_items(user=sui_librarian, transfer=transfer, items=[sui_item])
    line = transfer.lines.get()
    client.force_login(superuser)
    url = reverse("admin:collections_app_transfer_change", args=[transfer.pk])
    data = change_form_data(client, url, status="cancelled", note="盘点")
    data.update({"lines-TOTAL_FORMS": "1", "lines-INITIAL_FORMS": "1"})
    data.update({"lines-0-id": line.pk, "lines-0-transfer": transfer.pk, "lines-0-is_open": ""})
    assert client.post(url, data).status_code == 302
    transfer.refresh_from_db()
    line.refresh_from_db()
    assert (transfer.status, transfer.note, line.is_open) == ("draft", "盘点", True)
    line_url = reverse("admin:collections_app_transferline_change", args=[line.pk])
    assert client.post(line_url, {"is_open": "", "state": "missing"}).status_code == 403
    line.refresh_from_db()
    assert (line.state, line.is_open) == ("pending", True)


def test_items_transfers_and_lines_are_not_created_in_the_admin(client, superuser):
    client.force_login(superuser)
    for model in ("item", "transfer", "transferline"):
        assert client.get(reverse(f"admin:collections_app_{model}_add")).status_code == 403


def test_reverting_an_item_to_an_old_version_keeps_its_status_and_place(
    client, superuser, sui_item, sui_branch
):
    first = Item.history.filter(id=sui_item.pk).earliest()
    item_mark(user=superuser, items=[sui_item], status="missing", note="盘点未见")
    client.force_login(superuser)
    url = reverse("admin:collections_app_item_simple_history", args=[sui_item.pk, first.pk])
    response = client.post(url, change_form_data(client, url, current_site=sui_branch.pk))
    assert response.status_code == 302
    sui_item.refresh_from_db()
    assert (sui_item.status, sui_item.current_site_id) == ("missing", sui_item.home_site_id)


def test_the_admin_is_headed_with_the_product_name(client, superuser):
    client.force_login(superuser)
    page = client.get(reverse("admin:index")).content.decode()
    assert "共享借阅管理" in page
    assert "Django" not in page


def test_the_history_page_reads_in_chinese_without_none(client, superuser, sui_item):
    client.force_login(superuser)
    url = reverse("admin:collections_app_item_change", args=[sui_item.pk])
    client.post(url, change_form_data(client, url, call_number="C912.82/2"))
    page = client.get(reverse("admin:collections_app_item_history", args=[sui_item.pk]))
    text = page.content.decode()
    assert "修改内容" in text and "修改原因" in text
    assert "索书号：</strong>C912.82/1&nbsp;&rarr;&nbsp;C912.82/2" in text
    assert "None" not in text
    assert "Changes" not in text


def test_rows_whose_deletion_would_move_volumes_cannot_be_deleted_in_the_admin(
    client, superuser, sui_librarian, sui_item, xiaolin_site
):
    display = Display.objects.create(
        library=sui_item.library, site=sui_item.current_site, name="专架", starts_on="2026-01-01"
    )
    box = Box.objects.create(library=sui_item.library, code="BX009", name="九号书箱")
    transfer = transfer_create(
        user=sui_librarian,
        source=sui_item.current_site,
        destination=xiaolin_site,
        reason="rotation",
    )
    client.force_login(superuser)
    for model, obj in [
        ("item", sui_item),
        ("display", display),
        ("box", box),
        ("transfer", transfer),
    ]:
        url = reverse(f"admin:collections_app_{model}_delete", args=[obj.pk])
        assert client.post(url, {"post": "yes"}).status_code == 403, model
        assert type(obj).objects.filter(pk=obj.pk).exists()
