"""A small Sui County catalogue: titles created as the import creates them (with their pinyin),
copies at the central library, the 厉山 branch and the 小林一中 service point; 曾都区 holds a
title of the same name that Sui County's readers must never see."""

from decimal import Decimal

import pytest

from circulation.models import LoanRule, Patron
from collections_app.models import Item, Title
from collections_app.services.holdings import holdings_add
from collections_app.services.stock import item_mark
from collections_app.title_keys import title_search_keys


def make_title(library, title, *, isbn="", clc="I247.5", responsibility="", publisher=""):
    return Title.objects.create(
        library=library,
        title=title,
        isbn=isbn,
        clc=clc,
        clc_top=clc.lstrip("[")[:1],
        responsibility=responsibility,
        publisher=publisher,
        year=2020,
        price=Decimal("30.00"),
        **title_search_keys(title),
    )


def make_copy(consignment, title, site, barcode, **fields):
    item = Item.objects.create(
        library=consignment.library,
        barcode=barcode,
        title=title,
        consignment=consignment,
        owner=consignment.lender,
        call_number=f"{title.clc}/1",
        home_site=site,
        current_site=site,
        **fields,
    )
    holdings_add(item_ids=[item.pk])  # as every path that creates volumes does
    return item


class Catalogue:
    pass


@pytest.fixture
def catalogue(suixian, sui_central, sui_branch, xiaolin_site, sui_consignment, zengdu_consignment,
              zengdu_central, sui_librarian):  # fmt: skip
    c = Catalogue()
    c.library, c.central, c.branch, c.xiaolin = suixian, sui_central, sui_branch, xiaolin_site
    c.hlm = make_title(
        suixian, "红楼梦", isbn="9787020002207", clc="I242.4", responsibility="曹雪芹著",
        publisher="人民文学出版社",
    )  # fmt: skip
    c.hlm_notes = make_title(
        suixian, "红楼梦人物论", clc="I207.411", responsibility="王昆仑著", publisher="三联书店"
    )
    c.about = make_title(
        suixian, "我读红楼", clc="I266", responsibility="红楼梦学会编", publisher="红楼出版社"
    )
    c.living = make_title(
        suixian, "活着", isbn="9787506365437", clc="I247.57", responsibility="余华著",
        publisher="作家出版社",
    )  # fmt: skip
    c.earth = make_title(
        suixian, "乡土中国", isbn="9787101066418", clc="C912.82", responsibility="费孝通著",
        publisher="中华书局",
    )  # fmt: skip
    # Only at the central library, and at the branch, for ordering by the home site.
    make_copy(sui_consignment, c.hlm, sui_central, "SX00000001")
    make_copy(sui_consignment, c.hlm_notes, xiaolin_site, "SX00000002")
    make_copy(sui_consignment, c.about, sui_branch, "SX00000003")
    c.living_copy = make_copy(sui_consignment, c.living, xiaolin_site, "SX00000004")
    make_copy(sui_consignment, c.living, sui_central, "SX00000005")
    make_copy(sui_consignment, c.earth, sui_central, "SX00000006")
    # Withdrawn copies are not in the catalogue.
    c.gone = make_title(suixian, "红楼旧梦", clc="I247.5")
    gone = make_copy(sui_consignment, c.gone, sui_central, "SX00000007")
    item_mark(user=sui_librarian, items=[gone], status=Item.Status.WITHDRAWN, note="破损剔除")
    # The other county's copy of the same novel.
    c.zengdu_hlm = make_title(zengdu_central.library, "红楼梦", isbn="9787020002207")
    make_copy(zengdu_consignment, c.zengdu_hlm, zengdu_central, "ZD00000001")
    return c


@pytest.fixture
def reader(catalogue):
    for category in Patron.Category.values:
        LoanRule.objects.create(
            library=catalogue.library,
            category=category,
            loan_days=30,
            max_items=3,
            max_renewals=1,
            blocks_when_overdue=True,
            hold_pickup_days=7,
        )
    return Patron.objects.create(
        library=catalogue.library,
        card_number="SX900001",
        name="读者甲",
        category=Patron.Category.ADULT,
        home_site=catalogue.xiaolin,
    )
