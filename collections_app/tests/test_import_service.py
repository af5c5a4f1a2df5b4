"""The import service: all or nothing, duplicates against the file and the database, a second
import of the same file creates nothing, and only the county's librarians may import."""

from datetime import date

import pytest

from collections_app.errors import Refused
from collections_app.models import (
    AwaitingBarcodes,
    Consignment,
    ConsignmentImport,
    Item,
    ItemEvent,
    Title,
)
from collections_app.services.receiving import consignment_import
from collections_app.tests.manifest_files import DATA, csv_bytes, rows, xlsx_bytes


@pytest.fixture
def announced(nlc, suixian, sui_central):
    return Consignment.objects.create(
        library=suixian, lender=nlc, reference="NLC-2024-SX", agreement_date=date(2024, 3, 1)
    )


def counts():
    return Title.objects.count(), Item.objects.count(), ItemEvent.objects.count()


def test_a_committed_csv_creates_expected_items_at_the_central_library_with_history(
    sui_librarian, announced, sui_central
):
    result = consignment_import(
        user=sui_librarian, consignment=announced, data=csv_bytes(rows(20)), filename="a.csv"
    )
    assert result.committed
    assert counts() == (20, 20, 20)
    item = Item.objects.get(barcode="NL2100000003")
    assert (item.status, item.current_site, item.home_site, item.owner) == (
        "expected",
        sui_central,
        sui_central,
        announced.lender,
    )
    assert item.title.title == "测试图书第3号"
    assert item.call_number == "G634.413/3"
    event = ItemEvent.objects.get(item=item)
    assert (event.kind, event.from_status, event.to_status, event.user) == (
        "imported",
        "",
        "expected",
        sui_librarian,
    )
    announced.refresh_from_db()
    assert announced.expected_count == 20
    assert "20 册待验收" in result.summary()


def test_a_csv_with_5_bad_rows_among_1000_is_refused_whole_with_all_5_listed(
    sui_librarian, announced
):
    data = rows(1000)
    data[9][1] = "9787500000010"  # ISBN checksum
    data[199][2] = ""  # title missing
    data[399][6] = "W100"  # no class W
    data[599][8] = "abc"  # price
    data[799][0] = data[0][0]  # duplicate barcode
    with pytest.raises(Refused) as refused:
        consignment_import(user=sui_librarian, consignment=announced, data=csv_bytes(data))
    assert [problem.where for problem in refused.value.problems] == [
        "第 11 行 · ISBN",
        "第 201 行 · 题名",
        "第 401 行 · 中图分类号",
        "第 601 行 · 价格",
        "第 801 行 · 条码号",
    ]
    assert "第 2 行" in refused.value.problems[-1].message  # the first use of that barcode
    assert counts() == (0, 0, 0)
    assert not ConsignmentImport.objects.exists()


def test_the_dry_run_lists_problems_and_writes_nothing(sui_librarian, announced):
    data = rows(5)
    data[2][1] = "123"
    result = consignment_import(
        user=sui_librarian, consignment=announced, data=csv_bytes(data), dry_run=True
    )
    assert not result.committed
    assert [(e.where, e.field) for e in result.manifest.errors] == [("第 4 行", "ISBN")]
    assert counts() == (0, 0, 0)


def test_importing_the_same_file_twice_creates_nothing_new_and_says_so(sui_librarian, announced):
    data = csv_bytes(rows(10))
    consignment_import(user=sui_librarian, consignment=announced, data=data)
    again = consignment_import(user=sui_librarian, consignment=announced, data=data)
    assert again.already_imported and not again.committed
    assert "没有新建任何记录" in again.summary()
    assert counts() == (10, 10, 10)
    assert ConsignmentImport.objects.count() == 1


def test_the_same_volumes_in_another_format_are_recognised_as_already_imported(
    sui_librarian, announced
):
    consignment_import(user=sui_librarian, consignment=announced, data=csv_bytes(rows(10)))
    again = consignment_import(user=sui_librarian, consignment=announced, data=xlsx_bytes(rows(10)))
    assert again.already_imported
    assert counts() == (10, 10, 10)


def test_barcodes_already_used_by_other_items_are_refused_by_row(
    sui_librarian, announced, sui_item
):
    data = rows(3)
    data[1][0] = sui_item.barcode
    with pytest.raises(Refused) as refused:
        consignment_import(user=sui_librarian, consignment=announced, data=csv_bytes(data))
    [problem] = refused.value.problems
    assert problem.where == "第 3 行 · 条码号"
    assert "已被其他图书使用" in problem.message


def test_the_marc_sample_imports_titles_items_and_copies_awaiting_barcodes(
    sui_librarian, announced
):
    data = (DATA / "dp2_sample_cnmarcxml_sru.xml").read_bytes()
    result = consignment_import(user=sui_librarian, consignment=announced, data=data)
    assert result.committed
    assert Title.objects.count() == 10
    assert sorted(Item.objects.values_list("barcode", flat=True)) == [
        "1667201", "1667202", "1667203", "1683011", "1683012", "1683013", "1708903",
    ]  # fmt: skip
    assert sum(AwaitingBarcodes.objects.values_list("copies", flat=True)) == 7
    title = Title.objects.get(items__barcode="1683011")
    assert (title.title, title.isbn, title.publisher, title.clc, title.clc_top) == (
        "'94中国发展报告",
        "9787503717444",
        "中国统计出版社",
        "F124",
        "F",
    )
    assert "200" in title.marc and "中国发展报告" in title.marc
    assert Title.objects.filter(isbn="9787503726231").count() == 2  # two printings, one ISBN


@pytest.mark.parametrize("actor", ["zengdu_librarian", "xiaolin_volunteer", "hubei_reviewer"])
def test_only_the_county_librarians_may_import(request, actor, announced):
    with pytest.raises(Refused):
        consignment_import(
            user=request.getfixturevalue(actor), consignment=announced, data=csv_bytes(rows(1))
        )
    assert counts() == (0, 0, 0)


def test_a_consignment_in_service_takes_no_more_manifests(sui_librarian, sui_consignment):
    with pytest.raises(Refused, match="不能再导入"):
        consignment_import(user=sui_librarian, consignment=sui_consignment, data=csv_bytes(rows(1)))
