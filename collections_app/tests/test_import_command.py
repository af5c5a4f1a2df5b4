"""python manage.py import_consignment: the same import from the command line."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from collections_app.models import Consignment, Item, Title
from collections_app.tests.manifest_files import DATA, csv_bytes, rows


def run(*args):
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command("import_consignment", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def manifest(tmp_path):
    path = tmp_path / "manifest.csv"
    path.write_bytes(csv_bytes(rows(12), encoding="gb18030"))
    return path


def test_it_creates_the_consignment_and_imports_the_manifest(nlc, suixian, sui_central, manifest):
    out, _err = run(str(manifest), "--library", "SUIXIAN", "--consignment", "NLC-2024-07")
    consignment = Consignment.objects.get(reference="NLC-2024-07")
    assert (consignment.library, consignment.lender, consignment.status) == (
        suixian,
        nlc,
        "announced",
    )
    assert Item.objects.filter(consignment=consignment, status="expected").count() == 12
    assert "12 册待验收" in out


def test_a_dry_run_writes_nothing_not_even_the_consignment(nlc, suixian, sui_central, manifest):
    out, _err = run(
        str(manifest), "--library", "SUIXIAN", "--consignment", "NLC-2024-07", "--dry-run"
    )
    assert "预览" in out
    assert not Consignment.objects.exists()
    assert not Title.objects.exists()


def test_errors_are_listed_by_row_and_the_exit_status_is_not_zero(
    nlc, suixian, sui_central, tmp_path, capsys
):
    data = rows(4)
    data[2][1] = "9787500000010"
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes(data))
    with pytest.raises(CommandError, match="1 处错误"):
        run(str(path), "--library", "SUIXIAN", "--consignment", "NLC-2024-07")
    assert not Item.objects.exists()


def test_the_second_run_says_the_file_was_imported_already(nlc, suixian, sui_central, manifest):
    args = (str(manifest), "--library", "SUIXIAN", "--consignment", "NLC-2024-07")
    run(*args)
    out, _err = run(*args)
    assert "没有新建任何记录" in out
    assert Item.objects.count() == 12


def test_marc_with_a_chosen_holdings_field_and_encoding(nlc, suixian, sui_central):
    out, _err = run(
        str(DATA / "derived_dp2_cnmarc_utf8.iso"),
        "--library", "SUIXIAN", "--consignment", "DP2",
        "--holdings", "906$b", "--encoding", "utf-8",
    )  # fmt: skip
    assert Item.objects.count() == 7
    assert "7 册待贴条码" in out


def test_an_unknown_library_or_file_is_a_clear_error(nlc, suixian, manifest):
    with pytest.raises(CommandError, match="没有代码为 NOPE"):
        run(str(manifest), "--library", "NOPE", "--consignment", "X")
    with pytest.raises(CommandError, match="找不到文件"):
        run("/nonexistent.csv", "--library", "SUIXIAN", "--consignment", "X")


def test_a_failed_import_leaves_no_new_consignment_behind(nlc, suixian, sui_central, tmp_path):
    data = rows(4)
    data[2][1] = "9787500000010"
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes(data))
    with pytest.raises(CommandError, match="未导入任何记录"):
        run(str(path), "--library", "SUIXIAN", "--consignment", "NLC-2024-07")
    assert not Consignment.objects.exists()
    assert not Title.objects.exists()


def test_a_file_that_cannot_be_read_leaves_no_new_consignment_behind(
    nlc, suixian, sui_central, tmp_path
):
    path = tmp_path / "manifest.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    err = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_consignment",
            str(path),
            "--library",
            "SUIXIAN",
            "--consignment",
            "NLC-2024-07",
            stdout=StringIO(),
            stderr=err,
        )
    assert "文件：这是一个 PNG 图片" in err.getvalue()
    assert not Consignment.objects.exists()
