"""The Chinese Library Classification is there as reference data after migrate."""

import pytest

from collections_app.models import ClcClass, clc_top_class


@pytest.mark.django_db
def test_all_22_top_classes_are_loaded_with_their_chinese_names():
    top = dict(ClcClass.objects.filter(level=1).values_list("code", "name_zh"))
    assert len(top) == 22
    assert set(top) == set("ABCDEFGHIJKNOPQRSTUVXZ")
    assert top["I"] == "文学"
    assert top["S"] == "农业科学"


@pytest.mark.django_db
def test_second_level_classes_hang_under_their_top_class():
    assert ClcClass.objects.filter(level=2).count() == 248
    tp = ClcClass.objects.get(code="TP")
    assert tp.parent_id == "T"
    assert tp.name_zh == "自动化技术、计算机技术"


@pytest.mark.parametrize(
    ("number", "top"),
    [("I247.5", "I"), ("tp311.56", "T"), ("[T-9]", "T"), ("", ""), ("123", "")],
)
def test_the_top_class_of_a_class_number_is_its_first_letter(number, top):
    assert clc_top_class(number) == top
