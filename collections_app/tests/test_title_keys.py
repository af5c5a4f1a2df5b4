import pytest
from django.core.management import call_command

from collections_app.models import Title
from collections_app.title_keys import query_pinyin, title_search_keys


@pytest.mark.parametrize(
    ("title", "full", "initials"),
    [
        ("红楼梦", "hongloumeng", "hlm"),
        ("重庆森林", "chongqingsenlin", "cqsl"),
        ("乡土中国", "xiangtuzhongguo", "xtzg"),
        ("Python编程：从入门到实践", "pythonbianchengcongrumendaoshijian", "pbccrmdsj"),
        ("长江三峡 2版", "changjiangsanxia2ban", "cjsx2b"),
        ("Ｈｅｌｌｏ世界", "helloshijie", "hsj"),
        ("", "", ""),
    ],
)
def test_it_spells_a_title_in_pinyin_full_and_by_initials(title, full, initials):
    assert title_search_keys(title) == {"title_pinyin": full, "title_initials": initials}


def test_a_query_is_compared_in_lower_case_without_spaces():
    assert query_pinyin(" Hong Lou　Meng ") == "hongloumeng"


def test_the_backfill_fills_titles_without_pinyin_and_leaves_the_rest(sui_item, xiaolin_item):
    Title.objects.filter(pk=xiaolin_item.title_id).update(title_pinyin="kept", title_initials="k")
    call_command("fill_title_pinyin", "--dry-run")
    assert Title.objects.get(pk=sui_item.title_id).title_pinyin == ""

    call_command("fill_title_pinyin")

    assert Title.objects.get(pk=sui_item.title_id).title_initials == "xtzg"
    assert Title.objects.get(pk=xiaolin_item.title_id).title_pinyin == "kept"
    call_command("fill_title_pinyin", "--refresh", "--library", "SUIXIAN")
    assert Title.objects.get(pk=xiaolin_item.title_id).title_pinyin == "huozhe"


def test_an_imported_manifest_gives_each_title_its_pinyin(nlc, suixian, sui_central, tmp_path):
    from collections_app.tests.manifest_files import csv_bytes, rows

    path = tmp_path / "manifest.csv"
    path.write_bytes(csv_bytes(rows(5), encoding="gb18030"))
    call_command(
        "import_consignment", str(path), "--library", "SUIXIAN", "--consignment", "NLC-2024-07"
    )
    titles = Title.objects.filter(library=suixian)
    assert titles.count() == 5
    for title in titles:
        assert title.title_initials and title.title_pinyin
        assert title_search_keys(title.title) == {
            "title_pinyin": title.title_pinyin,
            "title_initials": title.title_initials,
        }
