"""Transfers through the API: a draft from barcodes or from the allocation filters, dispatch,
receipt by barcodes, cancel — over the transfer services, with the desk's refusals and the
scope of the transfer pages."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from circulation.integrity import find_violations
from collections_app.models import Item, Transfer, TransferLine
from collections_app.services.transfers import (
    transfer_add_items,
    transfer_create,
    transfer_dispatch,
)
from conftest import make_item
from sharedloan.tests.api_contract import answers_keep_the_schema  # noqa: F401


@pytest.fixture
def api():
    return APIClient()


def as_(api, user):
    api.force_authenticate(user)
    return api


@pytest.fixture
def shelf(sui_consignment, sui_central):
    """Eight volumes on the central library's shelf: four of class I, idle for 10 to 40 days,
    and four of class K never lent."""
    now = timezone.now()
    items = [
        make_item(
            sui_consignment,
            sui_central,
            f"SX1000{n}",
            title=f"小说{n}",
            clc="I247.5",
            last_loan_at=now - timedelta(days=10 * n),
        )
        for n in range(1, 5)
    ]
    items += [
        make_item(sui_consignment, sui_central, f"SX2000{n}", title=f"历史{n}", clc="K207")
        for n in range(1, 5)
    ]
    return items


def create(api, headers=None, **body):
    body = {"source": "central", "destination": "SUIXIAN.lijiadian", "reason": "allocation"} | body
    return api.post("/api/v1/transfers/", body, format="json", headers=headers)


def draft(user, source, destination, items):
    transfer = transfer_create(
        user=user, source=source, destination=destination, reason="allocation"
    )
    transfer_add_items(user=user, transfer=transfer, items=items)
    return transfer


def dispatched(user, source, destination, items):
    return transfer_dispatch(user=user, transfer=draft(user, source, destination, items))


def url(transfer, action=""):
    return f"/api/v1/transfers/{transfer.pk}/" + (f"{action}/" if action else "")


# Create ---------------------------------------------------------------------------------------


def test_a_draft_is_made_from_scanned_barcodes(api, sui_librarian, shelf, sui_branch):
    response = create(
        as_(api, sui_librarian), barcodes=["SX10001", " ｓｘ10002 ".upper(), "SX10001"]
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["status"], body["source"], body["destination"], body["added"]) == (
        "draft",
        "central",
        "lijiadian",
        2,
    )
    assert sorted(line["item"] for line in body["lines"]) == ["SX10001", "SX10002"]
    assert response["Location"].endswith(f"/api/v1/transfers/{body['id']}/")
    assert find_violations() == []


def test_a_draft_is_filled_with_the_filters_of_bulk_allocation(
    api, sui_librarian, shelf, sui_branch
):
    response = create(as_(api, sui_librarian), filters={"count": 3, "clc_top": "I"})
    assert response.status_code == 201, response.json()
    body = response.json()
    # The longest idle volumes of class I first.
    assert sorted(line["item"] for line in body["lines"]) == ["SX10002", "SX10003", "SX10004"]
    assert body["added"] == 3
    more = create(
        api,
        filters={"count": 50, "consignment": "NLC-2021-SX", "idle_days": 15, "on_display": False},
    )
    # What is left of the consignment idle for 15 days: the K volumes (never lent).
    assert sorted(line["item"] for line in more.json()["lines"]) == [
        "SX20001",
        "SX20002",
        "SX20003",
        "SX20004",
    ]


def test_filters_that_find_nothing_leave_no_draft_behind(api, sui_librarian, shelf, sui_branch):
    response = create(as_(api, sui_librarian), filters={"count": 5, "clc_top": "TP"})
    assert response.status_code == 400  # TP is not a main class
    response = create(api, filters={"count": 5, "clc_top": "A"})
    assert response.status_code == 409
    assert response.json()["code"] == "no_matching_items"
    assert response.json()["message"] == "发出站点没有符合条件的在架图书。"
    unknown = create(api, filters={"count": 5, "consignment": "NLC-2021-ZD"})
    assert unknown.status_code == 400
    assert "consignment" in unknown.json()["fields"]["filters"]
    assert not Transfer.objects.exists()


def test_one_volume_that_cannot_go_refuses_the_whole_draft_with_every_reason(
    api, sui_librarian, shelf, sui_branch, xiaolin_item, zengdu_item
):
    Item.objects.filter(barcode="SX10003").update(status=Item.Status.ON_LOAN)
    response = create(
        as_(api, sui_librarian),
        barcodes=["SX10001", "SX10003", xiaolin_item.barcode, zengdu_item.barcode, "NOSUCH1"],
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "items_not_transferable"
    # A volume of another county is as unknown as one that does not exist.
    assert body["problems"] == [
        {"where": zengdu_item.barcode, "code": "item_not_found", "message": "不是本馆的图书条码"},
        {"where": "NOSUCH1", "code": "item_not_found", "message": "不是本馆的图书条码"},
    ]
    Item.objects.filter(barcode="SX10003").update(status=Item.Status.AVAILABLE)
    Item.objects.filter(barcode="SX10004").update(status=Item.Status.ON_LOAN)
    response = create(api, barcodes=["SX10001", "SX10004", xiaolin_item.barcode])
    assert response.status_code == 409
    assert response.json()["code"] == "items_not_transferable"
    assert response.json()["message"] == "2 册图书不能调拨，未做任何更改。"
    assert response.json()["problems"] == [
        {"where": "SX10004", "code": "item_on_loan", "message": "已借出，归还后才能调拨"},
        {
            "where": xiaolin_item.barcode,
            "code": "item_not_here",
            "message": "不在发出站点，当前在“小林一中”",
        },
    ]
    assert not Transfer.objects.exists() and not TransferLine.objects.exists()


def test_bad_requests_name_their_fields(api, sui_librarian, shelf, sui_branch, zengdu_central):
    as_(api, sui_librarian)
    both = create(api, barcodes=["SX10001"], filters={"count": 1})
    assert both.status_code == 400
    assert both.json()["fields"]["non_field_errors"][0]["message"] == (
        "请给出条码或筛选条件之一，不能两者都给。"
    )
    foreign = create(api, source="ZENGDU.central")
    assert foreign.status_code == 400
    assert foreign.json()["fields"]["source"][0]["message"] == (
        "本馆没有代码为“ZENGDU.central”的启用站点。"
    )
    assert create(api, destination="nowhere").status_code == 400
    assert create(api, reason="holiday").status_code == 400
    assert create(api, barcodes=["a b"]).status_code == 400
    assert not Transfer.objects.exists()


def test_the_services_refusals_come_with_the_desks_messages(api, sui_librarian, shelf, sui_branch):
    as_(api, sui_librarian)
    to_lender = create(api, reason="return_to_lender")
    assert to_lender.status_code == 409
    assert to_lender.json()["code"] == "destination_unexpected"
    assert to_lender.json()["message"] == "归还国图的调拨单没有接收站点。"
    same = create(api, destination="central")
    assert same.status_code == 409
    assert same.json()["code"] == "destination_is_source"
    assert same.json()["message"] == "接收站点不能与发出站点相同。"
    nowhere = create(api, destination=None)
    assert nowhere.status_code == 409
    assert nowhere.json()["code"] == "destination_required"
    english = create(api, {"Accept-Language": "en"}, destination="central")
    assert english.status_code == 409
    assert english.json()["message"] == (
        "The destination site cannot be the same as the source site."
    )
    back = create(api, destination=None, reason="return_to_lender", barcodes=["SX10001"])
    assert back.status_code == 201 and back.json()["destination"] is None


@pytest.mark.parametrize("actor", ["hubei_reviewer", "nlc_lender", "superuser"])
def test_roles_that_do_not_move_volumes_get_403(api, request, actor, shelf, sui_branch):
    assert create(as_(api, request.getfixturevalue(actor)), barcodes=["SX10001"]).status_code == 403
    assert not Transfer.objects.exists()


def test_a_volunteer_sends_only_from_their_own_site(
    api, xiaolin_volunteer, shelf, xiaolin_item, sui_branch
):
    as_(api, xiaolin_volunteer)
    response = create(api, barcodes=["SX10001"])
    assert response.status_code == 409
    assert response.json()["code"] == "site_not_allowed"
    assert response.json()["message"] == "您不能从“随县图书馆总馆”发出图书。"
    to_lender = create(api, source="SUIXIAN.xiaolin", destination=None, reason="return_to_lender")
    assert to_lender.status_code == 409
    assert to_lender.json()["code"] == "librarian_only"
    assert not Transfer.objects.exists()
    own = create(api, source="SUIXIAN.xiaolin", destination="central", barcodes=["NL00000002"])
    assert own.status_code == 201


# Add, dispatch, cancel ------------------------------------------------------------------------


def test_volumes_are_added_to_a_draft_and_not_to_a_dispatched_transfer(
    api, sui_librarian, shelf, sui_central, sui_branch
):
    transfer = draft(sui_librarian, sui_central, sui_branch, shelf[:1])
    as_(api, sui_librarian)
    added = api.post(url(transfer, "add"), {"barcodes": ["SX20001", "SX20002"]}, format="json")
    assert added.status_code == 200 and added.json()["added"] == 2
    filled = api.post(url(transfer, "add"), {"filters": {"count": 1}}, format="json")
    assert filled.json()["added"] == 1
    assert len(filled.json()["lines"]) == 4
    transfer_dispatch(user=sui_librarian, transfer=transfer)
    late = api.post(url(transfer, "add"), {"barcodes": ["SX20003"]}, format="json")
    assert late.status_code == 409
    assert late.json()["code"] == "transfer_not_draft"
    assert late.json()["message"] == "只能向草稿状态的调拨单添加图书。"


def test_an_empty_draft_is_not_dispatched(api, sui_librarian, sui_branch):
    as_(api, sui_librarian)
    empty = create(api)
    assert empty.status_code == 201 and empty.json()["added"] == 0
    response = api.post(f"/api/v1/transfers/{empty.json()['id']}/dispatch/")
    assert response.status_code == 409
    assert response.json()["code"] == "transfer_empty"
    assert Transfer.objects.get().status == "draft"


def test_a_volume_on_another_open_transfer_is_named_with_its_own_code(
    api, sui_librarian, shelf, sui_central, sui_branch, xiaolin_site
):
    first = draft(sui_librarian, sui_central, xiaolin_site, shelf[:1])
    response = create(as_(api, sui_librarian), barcodes=["SX10001", "SX10002"])
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "items_not_transferable"
    assert body["problems"] == [
        {"where": "SX10001", "code": "item_on_transfer", "message": f"已在调拨单 #{first.pk} 中"}
    ]
    assert Transfer.objects.get() == first


def test_dispatch_puts_every_volume_in_transit_once(
    api, sui_librarian, shelf, sui_central, sui_branch
):
    transfer = draft(sui_librarian, sui_central, sui_branch, shelf[:3])
    response = as_(api, sui_librarian).post(url(transfer, "dispatch"))
    assert response.status_code == 200
    assert response.json()["status"] == "dispatched" and response.json()["dispatched_at"]
    assert Item.objects.filter(status="in_transit").count() == 3
    again = api.post(url(transfer, "dispatch"))
    assert again.status_code == 409
    # Already dispatched: a client tells it from a volume that is not at the site by its code.
    assert again.json()["code"] == "transfer_not_draft"
    assert again.json()["message"] == f"调拨单 #{transfer.pk} 已不是草稿，不能再发出。"
    assert find_violations() == []


def test_a_draft_whose_volume_went_out_meanwhile_is_not_dispatched(
    api, sui_librarian, shelf, sui_central, sui_branch
):
    transfer = draft(sui_librarian, sui_central, sui_branch, shelf[:2])
    Item.objects.filter(barcode="SX10002").update(status=Item.Status.DAMAGED)
    response = as_(api, sui_librarian).post(url(transfer, "dispatch"))
    assert response.status_code == 409
    assert response.json()["code"] == "items_not_transferable"
    assert response.json()["problems"] == [
        {"where": "SX10002", "code": "item_out_of_service", "message": "状态为“损坏”，不能调拨"}
    ]
    assert not Item.objects.filter(status="in_transit").exists()


def test_cancel_brings_volumes_on_the_way_back_to_the_shelf(
    api, sui_librarian, shelf, sui_central, sui_branch
):
    transfer = dispatched(sui_librarian, sui_central, sui_branch, shelf[:2])
    response = as_(api, sui_librarian).post(url(transfer, "cancel"))
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert set(
        Item.objects.filter(pk__in=[i.pk for i in shelf[:2]]).values_list("status", "current_site")
    ) == {("available", sui_central.pk)}
    again = api.post(url(transfer, "cancel"))
    assert again.status_code == 409
    assert again.json()["code"] == "transfer_closed"
    assert again.json()["message"] == f"调拨单 #{transfer.pk} 已完结，不能取消。"
    assert find_violations() == []


@pytest.mark.parametrize(
    "actor,code",
    [
        ("hubei_reviewer", 403),
        ("nlc_lender", 403),
        ("zengdu_librarian", 404),
        ("xiaolin_volunteer", 404),
    ],
)
@pytest.mark.parametrize("action", ["add", "dispatch", "cancel", "receive"])
def test_writes_on_a_transfer_follow_the_scope_of_its_page(
    api, request, actor, code, action, sui_librarian, shelf, sui_central, sui_branch
):
    transfer = draft(sui_librarian, sui_central, sui_branch, shelf[:1])
    if action == "receive":
        transfer_dispatch(user=sui_librarian, transfer=transfer)
    response = as_(api, request.getfixturevalue(actor)).post(
        url(transfer, action), {"barcodes": ["SX10001"]}, format="json"
    )
    assert response.status_code == code
    transfer.refresh_from_db()
    assert transfer.status == ("dispatched" if action == "receive" else "draft")
    assert transfer.lines.count() == 1


def test_a_volunteer_works_a_transfer_only_at_their_end_of_it(
    api, sui_librarian, xiaolin_volunteer, shelf, sui_central, xiaolin_site, xiaolin_item
):
    inbound = draft(sui_librarian, sui_central, xiaolin_site, shelf[:1])
    as_(api, xiaolin_volunteer)
    assert api.get(url(inbound)).status_code == 200
    assert api.post(url(inbound, "dispatch")).status_code == 403
    transfer_dispatch(user=sui_librarian, transfer=inbound)
    assert api.post(url(inbound, "cancel")).status_code == 403
    received = api.post(url(inbound, "receive"), {"barcodes": ["SX10001"]}, format="json")
    assert received.status_code == 200 and received.json()["completed"] is True
    outbound = draft(xiaolin_volunteer, xiaolin_site, sui_central, [xiaolin_item])
    assert api.post(url(outbound, "dispatch")).status_code == 200
    assert (
        api.post(url(outbound, "receive"), {"barcodes": ["NL00000002"]}, format="json").status_code
        == 403
    )


# Receive --------------------------------------------------------------------------------------


def test_a_receipt_answers_received_extra_and_at_the_end_missing_lines(
    api, sui_librarian, shelf, sui_central, sui_branch
):
    transfer = dispatched(sui_librarian, sui_central, sui_branch, shelf[:3])
    as_(api, sui_librarian)
    first = api.post(
        url(transfer, "receive"),
        {"barcodes": ["SX10001", "SX10002", "SX20001"], "damaged": ["SX10002"]},
        format="json",
    )
    assert first.status_code == 200, first.json()
    body = first.json()
    assert (body["received"], body["damaged"], body["extra"], body["missing"]) == (
        ["SX10001"],
        ["SX10002"],
        ["SX20001"],
        [],
    )
    assert (body["status"], body["completed"]) == ("dispatched", False)
    assert body["counts"]["pending"] == 1 and body["counts"]["extra"] == 1
    twice = api.post(url(transfer, "receive"), {"barcodes": ["SX10001"]}, format="json")
    assert twice.json()["already"] == ["SX10001"]
    done = api.post(url(transfer, "receive"), {"finish": True}, format="json")
    assert done.json()["missing"] == ["SX10003"]
    assert (done.json()["status"], done.json()["completed"]) == ("received", True)
    statuses = dict(Item.objects.values_list("barcode", "status"))
    assert (statuses["SX10001"], statuses["SX10002"], statuses["SX10003"]) == (
        "available",
        "damaged",
        "missing",
    )
    assert Item.objects.get(barcode="SX20001").current_site == sui_branch
    assert find_violations() == []


def test_one_barcode_the_transfer_cannot_take_refuses_the_whole_receipt(
    api, sui_librarian, shelf, sui_central, sui_branch, zengdu_item
):
    transfer = dispatched(sui_librarian, sui_central, sui_branch, shelf[:2])
    response = as_(api, sui_librarian).post(
        url(transfer, "receive"),
        {"barcodes": ["SX10001", zengdu_item.barcode, "SX10002"], "finish": True},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "items_not_receivable"
    assert response.json()["message"] == "1 个条码不能接收，未做任何更改。"
    assert response.json()["problems"] == [
        {"where": zengdu_item.barcode, "code": "item_not_found", "message": "不是本馆的图书条码"}
    ]
    assert set(transfer.lines.values_list("state", flat=True)) == {"pending"}
    assert Item.objects.filter(status="in_transit").count() == 2
    assert api.post(url(transfer, "receive"), {}, format="json").status_code == 400
    assert find_violations() == []


def test_an_extra_volume_that_cannot_arrive_is_named_with_its_own_code(
    api, sui_librarian, shelf, sui_central, sui_branch
):
    transfer = dispatched(sui_librarian, sui_central, sui_branch, shelf[:1])
    Item.objects.filter(barcode="SX10002").update(status=Item.Status.ON_LOAN)
    response = as_(api, sui_librarian).post(
        url(transfer, "receive"), {"barcodes": ["SX10001", "SX10002"]}, format="json"
    )
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "items_not_receivable"
    assert [(row["where"], row["code"]) for row in body["problems"]] == [
        ("SX10002", "extra_not_receivable")
    ]
    assert set(transfer.lines.values_list("state", flat=True)) == {"pending"}


def test_a_transfer_not_on_its_way_is_not_received(
    api, sui_librarian, shelf, sui_central, sui_branch
):
    transfer = draft(sui_librarian, sui_central, sui_branch, shelf[:1])
    response = as_(api, sui_librarian).post(
        url(transfer, "receive"), {"barcodes": ["SX10001"]}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "transfer_not_dispatched"
    assert response.json()["message"] == f"调拨单 #{transfer.pk} 的状态是“草稿”，不能接收。"


def test_the_read_only_lists_keep_their_paths(
    api, hubei_reviewer, sui_librarian, shelf, sui_central, sui_branch
):
    transfer = dispatched(sui_librarian, sui_central, sui_branch, shelf[:2])
    as_(api, hubei_reviewer)
    listed = api.get("/api/v1/transfers/", {"status": "dispatched"}).json()
    assert [row["id"] for row in listed["results"]] == [transfer.pk]
    assert len(api.get(url(transfer)).json()["lines"]) == 2


def test_the_county_librarian_confirms_a_return_to_the_lender(
    api, sui_librarian, shelf, sui_central
):
    from accounts.models import User
    from conftest import make_user

    transfer = transfer_create(
        user=sui_librarian, source=sui_central, destination=None, reason="return_to_lender"
    )
    transfer_add_items(user=sui_librarian, transfer=transfer, items=shelf[:2])
    transfer_dispatch(user=sui_librarian, transfer=transfer)
    central_staff = make_user(
        "central", sui_central.library, User.Role.SITE_STAFF, sites=[sui_central]
    )
    body = {"barcodes": ["SX10001", "SX10002"]}
    assert (
        as_(api, central_staff).post(url(transfer, "receive"), body, format="json").status_code
        == 403
    )
    response = as_(api, sui_librarian).post(url(transfer, "receive"), body, format="json")
    assert response.status_code == 200
    assert response.json()["completed"] is True
    assert set(
        Item.objects.filter(barcode__in=body["barcodes"]).values_list("status", flat=True)
    ) == {"returned_to_lender"}
    assert find_violations() == []
