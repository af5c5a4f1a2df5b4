"""One barcode normaliser everywhere: a scanner behind a Chinese input method (full-width
letters and digits), padding and invisible characters find the same volume at every entry
point, and a pasted list reports each bad line by number without losing the rest."""

from datetime import date

import pytest
from django.urls import reverse

from collections_app.barcodes import (
    BarcodeField,
    normalise_barcode,
    parse_barcode_list,
)
from collections_app.models import Box, Display, Item, RotationMember, RotationPlan, RotationStop
from collections_app.services.boxes import box_pack, box_send
from collections_app.services.transfers import (
    transfer_add_items,
    transfer_create,
    transfer_dispatch,
    transfer_receive,
)
from conftest import make_item

JSON = {"HTTP_ACCEPT": "application/json"}


def wide(code: str) -> str:
    """What a scanner types behind a Chinese input method: full-width forms, padded."""
    return "\u3000" + "".join(chr(ord(ch) + 0xFEE0) for ch in code) + " \u200b"


@pytest.mark.parametrize(
    "raw",
    [
        "ＮＬ００００００１",
        " NL0000001 ",
        "NL 000 0001",
        "NL0000001\u200b",
        "\ufeffNL0000001\r\n",
        "\u3000ＮＬ０００\u3000０００１\t",
        "NL\u2060\u200d0000001",
    ],
)
def test_every_way_a_scanner_or_a_paste_sends_a_code_cleans_to_the_same_code(raw):
    assert normalise_barcode(raw) == "NL0000001"


def test_letters_keep_their_case_and_nothing_becomes_nothing():
    assert normalise_barcode("nl-0001") == "nl-0001"
    assert normalise_barcode(None) == ""
    assert normalise_barcode("\u200b \u3000") == ""


def test_the_field_cleans_then_checks_the_form_of_a_barcode():
    field = BarcodeField()
    assert field.clean(wide("BOX-001")) == "BOX-001"
    with pytest.raises(Exception, match="条码只能由字母"):
        field.clean("NL/0001")


def test_a_pasted_list_keeps_good_lines_and_names_bad_ones_by_line_number():
    listed = parse_barcode_list("NL0001\n\nＮＬ０００２ NL0003\nNL/04\nNL0001\r\n  BOX-1  ")
    assert listed.values == ["NL0001", "NL0002", "NL0003", "BOX-1"]
    assert [(bad.line, bad.code) for bad in listed.invalid] == [(4, "NL/04")]
    assert listed.line_of("NL0003") == 3


@pytest.fixture
def shelf(sui_consignment, sui_central):
    return [make_item(sui_consignment, sui_central, f"NL6000000{n}") for n in range(4)]


@pytest.fixture
def draft(sui_librarian, sui_central, xiaolin_site):
    return transfer_create(
        user=sui_librarian, source=sui_central, destination=xiaolin_site, reason="allocation"
    )


def test_a_full_width_scan_adds_to_a_transfer(client_for, sui_librarian, draft, shelf):
    url = reverse("collections:transfer-add-scan", args=[draft.pk])
    answer = client_for(sui_librarian).post(url, {"barcode": wide(shelf[0].barcode)}, **JSON)
    assert answer.json()["ok"], answer.json()
    assert list(draft.lines.values_list("item__barcode", flat=True)) == [shelf[0].barcode]


def test_a_full_width_scan_is_received_at_the_transfer_destination(
    client_for, sui_librarian, xiaolin_volunteer, xiaolin_site, draft, shelf
):
    transfer_add_items(user=sui_librarian, transfer=draft, items=shelf[:2])
    transfer_dispatch(user=sui_librarian, transfer=draft)
    url = reverse("collections:transfer-receive", args=[draft.pk])
    answer = client_for(xiaolin_volunteer).post(url, {"barcode": wide(shelf[0].barcode)}, **JSON)
    assert answer.json()["outcome"] == "received", answer.json()
    # The service cleans at its entry too: a command or an API caller gets the same answer.
    receipt = transfer_receive(
        user=xiaolin_volunteer, transfer=draft, site=xiaolin_site, barcodes=[wide(shelf[1].barcode)]
    )
    assert receipt.received == [shelf[1].barcode]


def test_a_full_width_box_label_received_opens_the_box(
    sui_librarian, xiaolin_volunteer, xiaolin_site, suixian, shelf
):
    box = Box.objects.create(library=suixian, code="BOX-001", name="一号")
    box_pack(user=sui_librarian, box=box, items=shelf[:2])
    transfer = box_send(user=sui_librarian, box=box, destination=xiaolin_site)
    receipt = transfer_receive(
        user=xiaolin_volunteer, transfer=transfer, site=xiaolin_site, barcodes=[wide("BOX-001")]
    )
    assert sorted(receipt.received) == sorted(item.barcode for item in shelf[:2])


def test_a_full_width_scan_packs_a_box_and_places_on_a_display(
    client_for, sui_librarian, suixian, sui_central, shelf
):
    client = client_for(sui_librarian)
    box = Box.objects.create(library=suixian, code="BOX-002", name="二号")
    answer = client.post(
        reverse("collections:box-pack", args=[box.code]),
        {"barcode": wide(shelf[0].barcode)},
        **JSON,
    )
    assert answer.json()["ok"], answer.json()
    display = Display.objects.create(
        library=suixian, site=sui_central, name="国图专架", starts_on=date(2026, 1, 1)
    )
    answer = client.post(
        reverse("collections:display-scan", args=[display.pk]),
        {"barcode": wide(shelf[1].barcode)},
        **JSON,
    )
    assert answer.json()["ok"], answer.json()
    assert Item.objects.get(pk=shelf[1].pk).display == display


def test_a_new_box_code_is_cleaned_like_a_scan(client_for, sui_librarian):
    client_for(sui_librarian).post(
        reverse("collections:box-list"), {"code": wide("BOX-009"), "name": "九号"}
    )
    assert Box.objects.get().code == "BOX-009"


def test_a_malformed_scan_says_why_instead_of_searching(client_for, sui_librarian, draft):
    url = reverse("collections:transfer-add-scan", args=[draft.pk])
    answer = client_for(sui_librarian).post(url, {"barcode": "NL/0001"}, **JSON).json()
    assert not answer["ok"] and "条码只能由字母" in answer["message"]


def test_a_pasted_rotation_list_reports_unknown_lines_and_keeps_the_rest(
    client_for, sui_librarian, suixian, sui_central, xiaolin_site, shelf
):
    plan = RotationPlan.objects.create(library=suixian, name="小林循环")
    RotationStop.objects.create(
        library=suixian, plan=plan, position=1, site=sui_central, stay_days=30
    )
    RotationStop.objects.create(
        library=suixian, plan=plan, position=2, site=xiaolin_site, stay_days=30
    )
    pasted = f"{wide(shelf[0].barcode)}\nNL99999999\n{shelf[1].barcode}\nNL/1\n"
    response = client_for(sui_librarian).post(
        reverse("collections:rotation-add-items", args=[plan.pk]), {"barcodes": pasted}, follow=True
    )
    page = response.content.decode()
    assert "第 2 行：NL99999999" in page and "第 4 行：NL/1" in page
    members = RotationMember.objects.filter(plan=plan).values_list("item__barcode", flat=True)
    assert sorted(members) == [shelf[0].barcode, shelf[1].barcode]


def test_the_label_list_cleans_codes_and_names_the_lines_not_in_the_consignment(
    client_for, sui_librarian, sui_consignment, shelf
):
    url = reverse("collections:consignment-labels", args=[sui_consignment.pk])
    response = client_for(sui_librarian).get(
        url,
        {"print": "1", "kind": "both", "columns": 3, "rows": 8, "barcodes": "ＮＬ1\nNL00000099"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "第 2 行：NL00000099" in page


def test_the_receiving_scan_cleans_inner_spaces(
    client_for, sui_librarian, nlc, suixian, sui_central
):
    from collections_app.models import Consignment
    from collections_app.services.receiving import (
        consignment_import,
        consignment_start_receiving,
    )
    from collections_app.tests.manifest_files import csv_bytes, rows

    consignment = Consignment.objects.create(
        library=suixian, lender=nlc, reference="NLC-2025-SX", agreement_date=date(2025, 3, 1)
    )
    consignment_import(user=sui_librarian, consignment=consignment, data=csv_bytes(rows(2)))
    consignment_start_receiving(user=sui_librarian, consignment=consignment)
    code = rows(1)[0][0]
    answer = client_for(sui_librarian).post(
        reverse("collections:consignment-scan", args=[consignment.pk]),
        {"barcode": wide(code[:4]) + " " + code[4:]},
        **JSON,
    )
    assert answer.json()["outcome"] == "received", answer.json()


def test_the_api_finds_an_item_and_a_reader_by_a_full_width_code(
    client_for, sui_librarian, sui_central, shelf
):
    from circulation.models import LoanRule, Patron

    LoanRule.objects.create(
        library=sui_central.library, category="adult", loan_days=30, max_items=5
    )
    client = client_for(sui_librarian)
    found = client.get(f"/api/v1/items/{wide(shelf[0].barcode).strip()}/")
    assert found.status_code == 200 and found.json()["barcode"] == shelf[0].barcode
    Patron.objects.create(
        library=sui_central.library, card_number="R0001", name="王小明", category="adult",
        home_site=sui_central,
    )  # fmt: skip
    lent = client.post(
        "/api/v1/circulation/checkout/",
        {
            "site": f"{sui_central.library.code}.{sui_central.code}",
            "barcode": wide(shelf[2].barcode),
            "card_number": wide("R0001"),
        },
    )
    assert lent.status_code == 201, lent.content


def test_the_item_search_finds_a_full_width_barcode(client_for, sui_librarian, shelf):
    response = client_for(sui_librarian).get(
        reverse("collections:item-list"), {"barcode": wide(shelf[0].barcode)}
    )
    assert [item.barcode for item in response.context["page"]] == [shelf[0].barcode]
