"""What a manifest file says, once read: titles with their copies, and every problem found,
each with where it is (row or record), the column or MARC field, and the value."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

from collections_app.errors import Problem
from collections_app.models import clc_top_class

FORMAT_LABELS = {
    "csv": "CSV",
    "xlsx": "Excel (XLSX)",
    "marc": "ISO 2709 MARC",
    "marcxml": "MARCXML",
}


@dataclass(frozen=True)
class ImportProblem:
    where: str
    field: str
    value: str
    message: str
    is_error: bool = True

    def as_problem(self) -> Problem:
        place = f"{self.where} · {self.field}" if self.field else self.where
        text = f"“{self.value}”：{self.message}" if self.value else self.message
        return Problem(place, text)

    def __str__(self):
        return str(self.as_problem())


@dataclass(frozen=True)
class ImportOptions:
    """Choices a librarian can make for one import; the defaults detect everything."""

    encoding: str = ""  # "" detects; utf-8, gb18030, marc-8
    holdings: str = ""  # "" tries 906$b, 995$f, 952$p; otherwise "TAG$s", e.g. "995$f"


@dataclass
class ManifestCopy:
    barcode: str
    call_number: str
    where: str
    field: str


@dataclass
class ManifestTitle:
    where: str
    title: str
    responsibility: str = ""
    publisher: str = ""
    isbn: str = ""
    year: int | None = None
    clc: str = ""
    price: Decimal | None = None
    call_number: str = ""
    marc: str = ""
    copies: list[ManifestCopy] = field(default_factory=list)
    awaiting: int = 0

    @property
    def clc_top(self) -> str:
        return clc_top_class(self.clc)


@dataclass
class Manifest:
    file_format: str
    encoding: str = ""
    titles: list[ManifestTitle] = field(default_factory=list)
    problems: list[ImportProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def error(self, where, field_name, value, message):
        self.problems.append(ImportProblem(where, field_name, str(value or ""), str(message)))

    def warn(self, where, field_name, value, message):
        self.problems.append(
            ImportProblem(where, field_name, str(value or ""), str(message), is_error=False)
        )

    @property
    def errors(self) -> list[ImportProblem]:
        return [problem for problem in self.problems if problem.is_error]

    @property
    def warnings(self) -> list[ImportProblem]:
        return [problem for problem in self.problems if not problem.is_error]

    @property
    def format_label(self) -> str:
        return FORMAT_LABELS.get(self.file_format, self.file_format)

    @property
    def title_count(self) -> int:
        return len(self.titles)

    @property
    def item_count(self) -> int:
        return sum(len(title.copies) for title in self.titles)

    @property
    def awaiting_count(self) -> int:
        return sum(title.awaiting for title in self.titles)

    def by_clc_class(self, names: dict[str, str]) -> list[dict]:
        """Titles, items and copies awaiting barcodes per top CLC class, classes in order and
        the titles without a class last."""
        titles, items = Counter(), Counter()
        for title in self.titles:
            titles[title.clc_top] += 1
            items[title.clc_top] += len(title.copies) + title.awaiting
        return [
            {
                "code": code,
                "name": names.get(code, "") if code else _("（无分类号）"),
                "titles": titles[code],
                "items": items[code],
            }
            for code in sorted(titles, key=lambda code: (code == "", code))
        ]
