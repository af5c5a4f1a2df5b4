"""Book boxes through the API: registered, packed by barcodes, sent with one call and received
with one scan of the box's label at its destination."""

import pytest
from rest_framework.test import APIClient

from circulation.integrity import find_violations
from collections_app.models import Box, Item, Transfer
from collections_app.services.boxes import box_create, box_pack, box_send
from conftest import make_item
from sharedloan.tests.api_contract import answers_keep_the_schema  # noqa: F401


@pytest.fixture
def api():
    return APIClient()


def as_(api, user):
    api.force_authenticate(user)
    return api


@pytest.fixture
def volumes(sui_consignment, sui_central):
    return [
        make_item(sui_consignment, sui_central, f"BX0000{n}", title=f"绘本{n}", clc="I287")
        for n in range(1, 4)
    ]


@pytest.fixture
def box(sui_librarian, suixian):
    return box_create(user=sui_librarian, library=suixian, code="BOX-001", name="小林一号箱")


@pytest.fixture
def packed(sui_librarian, box, volumes):
    box_pack(user=sui_librarian, box=box, items=volumes)
    return box


def test_a_librarian_registers_a_box_and_its_code_is_unique(api, sui_librarian, suixian):
    as_(api, sui_librarian)
    response = api.post("/api/v1/boxes/", {"code": "ｂｏｘ-７", "name": "七号箱"}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json() == {
        "code": "box-7",
        "name": "七号箱",
        "library": "SUIXIAN",
        "is_active": True,
        "site": None,
        "items": [],
    }
    again = api.post("/api/v1/boxes/", {"code": "box-7", "name": "又一个"}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "box_code_taken"
    assert again.json()["message"] == "书箱条码“box-7”已被使用。"
    assert Box.objects.count() == 1


@pytest.mark.parametrize("actor", ["xiaolin_volunteer", "hubei_reviewer", "nlc_lender"])
def test_only_county_librarians_register_boxes(api, request, actor, suixian):
    response = as_(api, request.getfixturevalue(actor)).post(
        "/api/v1/boxes/", {"code": "BOX-9", "name": "九号箱"}, format="json"
    )
    assert response.status_code == 403
    assert not Box.objects.exists()


def test_volumes_are_packed_all_or_none(api, sui_librarian, box, volumes, xiaolin_item):
    as_(api, sui_librarian)
    url = f"/api/v1/boxes/{box.code}/pack/"
    mixed = api.post(url, {"barcodes": ["BX00001", xiaolin_item.barcode]}, format="json")
    assert mixed.status_code == 409
    assert mixed.json()["code"] == "items_not_packable"
    assert mixed.json()["message"] == "有图书不能装箱，未做任何更改。"
    # Volumes at two sites for an empty box: each is named, with the rule's own code.
    assert {(row["where"], row["code"]) for row in mixed.json()["problems"]} == {
        ("BX00001", "items_scattered"),
        (xiaolin_item.barcode, "items_scattered"),
    }
    unknown = api.post(url, {"barcodes": ["BX00001", "NOSUCH9"]}, format="json")
    assert unknown.status_code == 409
    assert unknown.json()["code"] == "items_not_packable"
    assert unknown.json()["problems"] == [
        {"where": "NOSUCH9", "code": "item_not_found", "message": "不是本馆的图书条码"}
    ]
    assert not Item.objects.filter(box=box).exists()
    done = api.post(url, {"barcodes": ["BX00001", "BX00002", "BX00003"]}, format="json")
    assert done.status_code == 200
    assert (done.json()["items"], done.json()["site"]) == (
        ["BX00001", "BX00002", "BX00003"],
        "SUIXIAN.central",
    )
    assert find_violations() == []


def test_a_box_is_sent_and_received_by_its_code(
    api, sui_librarian, xiaolin_volunteer, packed, xiaolin_site
):
    sent = as_(api, sui_librarian).post(
        f"/api/v1/boxes/{packed.code}/send/", {"destination": "xiaolin"}, format="json"
    )
    assert sent.status_code == 201, sent.json()
    assert (sent.json()["status"], sent.json()["destination"]) == ("dispatched", "xiaolin")
    assert len(sent.json()["lines"]) == 3
    # On its way the box still stands at the central library, out of the volunteer's sight,
    # yet the volunteer at its destination receives it with one scan of the label.
    as_(api, xiaolin_volunteer)
    assert api.get(f"/api/v1/boxes/{packed.code}/").status_code == 404
    received = api.post("/api/v1/boxes/ＢＯＸ-００１/receive/", {}, format="json")
    assert received.status_code == 200, received.json()
    body = received.json()
    assert sorted(body["received"]) == ["BX00001", "BX00002", "BX00003"]
    assert (body["status"], body["completed"]) == ("received", True)
    assert api.get(f"/api/v1/boxes/{packed.code}/").json()["site"] == "SUIXIAN.xiaolin"
    again = api.post(f"/api/v1/boxes/{packed.code}/receive/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "box_not_in_transit"
    assert again.json()["message"] == "书箱“小林一号箱”不在途中。"
    assert find_violations() == []


def test_a_box_scanned_on_its_transfer_stands_for_its_volumes(
    api, sui_librarian, packed, xiaolin_site
):
    transfer = box_send(user=sui_librarian, box=packed, destination=xiaolin_site)
    response = as_(api, sui_librarian).post(
        f"/api/v1/transfers/{transfer.pk}/receive/",
        {"barcodes": [packed.code], "damaged": ["BX00002"]},
        format="json",
    )
    assert response.status_code == 200
    assert (response.json()["received"], response.json()["damaged"]) == (
        ["BX00001", "BX00003"],
        ["BX00002"],
    )


def test_who_may_send_and_receive_a_box(
    api, sui_librarian, zengdu_librarian, hubei_reviewer, xiaolin_volunteer, packed, xiaolin_site
):
    send = f"/api/v1/boxes/{packed.code}/send/"
    body = {"destination": "xiaolin"}
    assert as_(api, zengdu_librarian).post(send, body, format="json").status_code == 404
    assert as_(api, hubei_reviewer).post(send, body, format="json").status_code == 403
    # The volunteer cannot see a box standing at the central library.
    assert as_(api, xiaolin_volunteer).post(send, body, format="json").status_code == 404
    assert not Transfer.objects.exists()
    box_send(user=sui_librarian, box=packed, destination=xiaolin_site)
    receive = f"/api/v1/boxes/{packed.code}/receive/"
    assert as_(api, zengdu_librarian).post(receive, {}, format="json").status_code == 404
    assert as_(api, hubei_reviewer).post(receive, {}, format="json").status_code == 403
    assert Item.objects.filter(status="in_transit").count() == 3
    assert as_(api, zengdu_librarian).post("/api/v1/boxes/NOBOX/receive/").status_code == 404


def test_a_box_that_cannot_go_whole_is_not_sent(api, sui_librarian, packed, sui_branch):
    Item.objects.filter(barcode="BX00002").update(status=Item.Status.DAMAGED)
    response = as_(api, sui_librarian).post(
        f"/api/v1/boxes/{packed.code}/send/", {"destination": "lijiadian"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["code"] == "items_not_transferable"
    assert response.json()["message"] == "书箱中有图书不能发出，未做任何更改。"
    assert response.json()["problems"] == [
        {"where": "BX00002", "code": "item_out_of_service", "message": "状态为“损坏”，不能调拨"}
    ]
    assert not Transfer.objects.exists()
    unknown = api.post(
        f"/api/v1/boxes/{packed.code}/send/", {"destination": "ZENGDU.central"}, format="json"
    )
    assert unknown.status_code == 400


def test_a_box_on_its_way_is_not_sent_packed_or_unpacked_again(
    api, sui_librarian, packed, xiaolin_site, sui_consignment, sui_central
):
    as_(api, sui_librarian)
    send = f"/api/v1/boxes/{packed.code}/send/"
    assert api.post(send, {"destination": "xiaolin"}, format="json").status_code == 201
    again = api.post(send, {"destination": "xiaolin"}, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "box_on_transfer"
    assert again.json()["message"] == "书箱“小林一号箱”中有图书已在调拨单上，未做任何更改。"
    first = Transfer.objects.get()
    assert {p["code"] for p in again.json()["problems"]} == {"item_on_transfer"}
    assert again.json()["problems"][0]["message"] == f"已在调拨单 #{first.pk} 中"
    assert len(again.json()["problems"]) == packed.items.count()
    make_item(sui_consignment, sui_central, "BX00009")
    pack = api.post(f"/api/v1/boxes/{packed.code}/pack/", {"barcodes": ["BX00009"]}, format="json")
    assert pack.status_code == 409 and pack.json()["code"] == "box_on_transfer"
    unpack = api.post(f"/api/v1/boxes/{packed.code}/unpack/")
    assert unpack.status_code == 409 and unpack.json()["code"] == "box_on_transfer"
    assert Transfer.objects.count() == 1
    assert Item.objects.filter(box=packed).count() == 3


def test_each_volume_that_cannot_be_packed_says_why_in_its_code(
    api, sui_librarian, packed, xiaolin_item, sui_consignment, sui_central
):
    make_item(sui_consignment, sui_central, "BX00008", status=Item.Status.DAMAGED)
    response = as_(api, sui_librarian).post(
        f"/api/v1/boxes/{packed.code}/pack/",
        {"barcodes": [xiaolin_item.barcode, "BX00008"]},
        format="json",
    )
    assert response.status_code == 409
    assert {(row["where"], row["code"]) for row in response.json()["problems"]} == {
        (xiaolin_item.barcode, "item_not_here"),
        ("BX00008", "item_out_of_service"),
    }


def test_an_empty_or_scattered_box_is_not_sent(api, sui_librarian, box, packed, sui_branch):
    as_(api, sui_librarian)
    empty = box_create(user=sui_librarian, library=box.library, code="BOX-002", name="空箱")
    response = api.post(f"/api/v1/boxes/{empty.code}/send/", {"destination": "lijiadian"})
    assert response.status_code == 409 and response.json()["code"] == "box_empty"
    Item.objects.filter(barcode="BX00003").update(current_site=sui_branch)
    response = api.post(f"/api/v1/boxes/{packed.code}/send/", {"destination": "lijiadian"})
    assert response.status_code == 409 and response.json()["code"] == "items_scattered"
    assert not Transfer.objects.exists()


def test_a_box_is_unpacked_onto_the_shelf(api, sui_librarian, hubei_reviewer, packed):
    assert as_(api, hubei_reviewer).post(f"/api/v1/boxes/{packed.code}/unpack/").status_code == 403
    response = as_(api, sui_librarian).post(f"/api/v1/boxes/{packed.code}/unpack/")
    assert response.status_code == 200 and response.json() == {"unpacked": 3}
    assert not Item.objects.filter(box__isnull=False).exists()
    assert find_violations() == []
