"""Label sheets: no blank page after a full sheet. The HTML-rendered sheets put an empty page
(a dotted sliver) after every full one: 14 pages for 82 volumes instead of 7."""

import math
import re

import pytest

from collections_app.labels import Layout, labels_pdf
from collections_app.models import Item
from conftest import make_item

pytestmark = pytest.mark.django_db


def shelf(consignment, site, count):
    first = make_item(consignment, site, "NL60000000")
    Item.objects.bulk_create(
        Item(
            library=first.library,
            barcode=f"NL6{n:07}",
            title=first.title,
            consignment=consignment,
            owner=first.owner,
            call_number=first.call_number,
            home_site=site,
            current_site=site,
        )
        for n in range(1, count)
    )
    return Item.objects.filter(barcode__startswith="NL6").order_by("barcode")


def pages_of(pdf: bytes) -> list[bytes]:
    """Each page's content stream, in order (the PDF is written uncompressed)."""
    return re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S)


@pytest.mark.parametrize(
    ("volumes", "layout"),
    [
        (82, Layout()),  # 164 labels, 24 a sheet
        (12, Layout()),  # exactly one full sheet
        (48, Layout(kind="barcode")),  # exactly two full sheets
        (10, Layout(columns=2, rows=2, kind="spine", skip=2)),
    ],
    ids=["82-both", "one-full-sheet", "two-full-sheets", "skip"],
)
def test_every_page_carries_labels_and_none_follows_a_full_sheet(
    sui_consignment, sui_central, volumes, layout
):
    items = shelf(sui_consignment, sui_central, volumes)
    pdf = labels_pdf(items, layout=layout, compress=False)
    labels = volumes * (2 if layout.kind == "both" else 1)
    expected = math.ceil((labels + layout.skip) / layout.per_page)
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == expected
    frames = [page.count(b" re S") for page in pages_of(pdf) if b" re S" in page or not page]
    assert all(frames), "a page without a label"
    assert sum(frames) == labels
