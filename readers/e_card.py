"""The electronic reader card (电子读者证): the card number as a Code 128 barcode and a QR code,
drawn as SVG for the phone screen, so the desk's scanner reads it as it reads the plastic card
(both encode the card number and nothing else)."""

import io

import segno
from barcode import Code128
from barcode.writer import SVGWriter


def barcode_svg(card_number: str) -> bytes:
    out = io.BytesIO()
    # Wide modules and a quiet zone on each side: a desk scanner reads a phone screen at arm's
    # length; the number is printed under the bars for typing when the scanner fails.
    Code128(card_number, writer=SVGWriter()).write(
        out,
        options={"module_width": 0.5, "module_height": 22, "quiet_zone": 8, "font_size": 12},
    )
    return out.getvalue()


def qr_svg(card_number: str) -> bytes:
    out = io.BytesIO()
    segno.make_qr(card_number, error="m").save(out, kind="svg", scale=10, border=4)
    return out.getvalue()
