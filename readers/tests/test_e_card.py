"""The electronic reader card: what its barcode says, read back as a scanner reads it, is the
card number the desk finds the reader by."""

import re

import pytest
import zxingcpp
from django.urls import reverse
from PIL import Image, ImageDraw

from circulation.models import Patron
from circulation.services.patrons import patron_set_pin

PIN = "2468"
PX_PER_MM = 12
RECT = re.compile(
    r'<rect x="([\d.]+)mm" y="([\d.]+)mm" width="([\d.]+)mm" height="([\d.]+)mm" '
    r'style="fill:black;"'
)


def rasterise_barcode(svg: str) -> Image.Image:
    """Draw the bars of python-barcode's SVG (black rects in mm) on white, as a camera sees it."""
    width = float(re.search(r'<svg[^>]* width="([\d.]+)mm"', svg).group(1))
    height = float(re.search(r'<svg[^>]* height="([\d.]+)mm"', svg).group(1))
    image = Image.new("L", (int(width * PX_PER_MM) + 1, int(height * PX_PER_MM) + 1), 255)
    draw = ImageDraw.Draw(image)
    bars = RECT.findall(svg)
    assert bars
    for x, y, w, h in bars:
        x0, y0 = float(x) * PX_PER_MM, float(y) * PX_PER_MM
        draw.rectangle(
            [x0, y0, x0 + float(w) * PX_PER_MM - 1, y0 + float(h) * PX_PER_MM - 1], fill=0
        )
    return image


def _desk_finds(client_for, librarian, site, code):
    client = client_for(librarian)
    response = client.post(
        reverse("circulation:desk-scan", args=[site.library.code, site.code]),
        {"mode": "checkout", "code": code},
        HTTP_ACCEPT="application/json",
    )
    client.logout()
    return response.json()["card"]


@pytest.mark.parametrize("card", ["SX900001", "0042-7781", "ab12/3"])
def test_the_e_card_barcode_reads_as_the_card_number_the_desk_finds(
    client, client_for, catalogue, reader, sui_librarian, card
):
    Patron.objects.filter(pk=reader.pk).update(card_number=card)
    reader.refresh_from_db()
    patron_set_pin(user=sui_librarian, patron=reader, pin=PIN)
    client.post(reverse("readers:sign-in", args=["SUIXIAN"]), {"card_number": card, "pin": PIN})
    response = client.get(reverse("readers:e-card-image", args=["SUIXIAN", "barcode"]))
    assert response["Content-Type"] == "image/svg+xml"
    assert "no-store" in response["Cache-Control"]
    found = zxingcpp.read_barcodes(rasterise_barcode(response.content.decode()))
    assert [(r.format, r.text) for r in found] == [(zxingcpp.BarcodeFormat.Code128, card)]
    assert _desk_finds(client_for, sui_librarian, catalogue.xiaolin, found[0].text) == card


def test_the_e_card_page_shows_both_codes_and_nothing_but_the_readers_own_number(
    client, catalogue, reader, sui_librarian
):
    patron_set_pin(user=sui_librarian, patron=reader, pin=PIN)
    client.post(
        reverse("readers:sign-in", args=["SUIXIAN"]), {"card_number": "SX900001", "pin": PIN}
    )
    page = client.get(reverse("readers:e-card", args=["SUIXIAN"])).content.decode()
    assert reverse("readers:e-card-image", args=["SUIXIAN", "barcode"]) in page
    assert reverse("readers:e-card-image", args=["SUIXIAN", "qr"]) in page
    assert "SX900001" in page
    qr = client.get(reverse("readers:e-card-image", args=["SUIXIAN", "qr"]))
    assert qr.status_code == 200 and qr.content.startswith(b"<?xml")
    assert client.get(reverse("readers:e-card-image", args=["SUIXIAN", "other"])).status_code == 404
