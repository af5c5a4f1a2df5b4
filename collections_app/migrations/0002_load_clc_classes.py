"""Load the Chinese Library Classification (top and second level) as reference data.

The CSV files in collections_app/data/ are derived from coooold/php_clc_parser (MIT licence),
cross-checked against the zh.wikipedia article 中国图书馆分类法.
"""

import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"

ENGLISH_NAMES = {
    "A": "Marxism, Leninism, Mao Zedong Thought, Deng Xiaoping Theory",
    "B": "Philosophy and religion",
    "C": "Social sciences in general",
    "D": "Politics and law",
    "E": "Military science",
    "F": "Economics",
    "G": "Culture, science, education and sports",
    "H": "Languages and linguistics",
    "I": "Literature",
    "J": "Art",
    "K": "History and geography",
    "N": "Natural sciences in general",
    "O": "Mathematics, physics and chemistry",
    "P": "Astronomy and earth sciences",
    "Q": "Biology",
    "R": "Medicine and health",
    "S": "Agriculture",
    "T": "Industrial technology",
    "U": "Transportation",
    "V": "Aviation and aerospace",
    "X": "Environmental and safety science",
    "Z": "General works",
}


def load_clc_classes(apps, schema_editor):
    ClcClass = apps.get_model("collections_app", "ClcClass")
    with open(DATA / "clc_top_level.csv", encoding="utf-8") as f:
        top = [
            ClcClass(code=row["code"], name_zh=row["name_zh"], name_en=ENGLISH_NAMES[row["code"]], level=1)
            for row in csv.DictReader(f)
        ]
    with open(DATA / "clc_level2.csv", encoding="utf-8") as f:
        second = [
            ClcClass(code=row["code"], name_zh=row["name_zh"], parent_id=row["parent"], level=2)
            for row in csv.DictReader(f)
        ]
    ClcClass.objects.bulk_create(top + second, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("collections_app", "0001_initial")]

    operations = [migrations.RunPython(load_clc_classes, migrations.RunPython.noop)]
