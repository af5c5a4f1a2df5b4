"""What a manifest file says, once read: titles with their copies, and every problem found,
each with where it is (row or record), the column or MARC field, and the value."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

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
        text = (
            _("“%(value)s”：%(message)s") % {"value": self.value, "message": self.message}
            if self.value
            else self.message
        )
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
    suspect: str = ""  # why the text looks mis-decoded, "" when it reads well

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
    chinese_records: int = 0  # CNMARC/UNIMARC records among the titles

    def error(self, where, field_name, value, message):
        self.problems.append(ImportProblem(where, field_name, str(value or ""), str(message)))

    def warn(self, where, field_name, value, message):
        self.problems.append(
            ImportProblem(where, field_name, str(value or ""), str(message), is_error=False)
        )

    @property
    def sample(self) -> list[ManifestTitle]:
        """The first titles, shown in the preview so that wrong text is seen before commit."""
        return self.titles[:SAMPLE_SIZE]

    @property
    def suspect_titles(self) -> list[ManifestTitle]:
        return [title for title in self.titles if title.suspect]

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


SAMPLE_SIZE = 10

# Column limits of the database (Title, Item): a longer value is refused with its row and field,
# never cut. A title of 600 characters is a shifted column or a broken record, and the cut value
# would be committed wrong without anyone seeing it.
LIMITS = {
    "title": (500, gettext_lazy("题名")),
    "responsibility": (500, gettext_lazy("责任者")),
    "publisher": (200, gettext_lazy("出版者")),
    "clc": (64, gettext_lazy("中图分类号")),
    "call_number": (64, gettext_lazy("索书号")),
}


def check_lengths(manifest: Manifest, entry: ManifestTitle, labels: dict | None = None) -> bool:
    """An error, naming the row and the field, for each value longer than its column; True when
    every value fits. `labels` names the field as the file does (a column header, a MARC tag)."""
    fits = True
    labels = labels or {}
    values = {key: getattr(entry, key) or "" for key in LIMITS}
    values["call_number"] = max(
        [entry.call_number or ""] + [copy.call_number or "" for copy in entry.copies], key=len
    )
    for key, (limit, name) in LIMITS.items():
        value = values[key]
        if len(value) > limit:
            fits = False
            manifest.error(
                entry.where,
                labels.get(key) or name,
                value[:30] + "…",
                _("%(field)s有 %(size)s 字，最多 %(limit)s 字，请检查这一列是否错位")
                % {"field": name, "size": len(value), "limit": limit},
            )
    return fits


# Text that no catalogue holds: what a wrong encoding makes of Chinese (or any) text.
_ALWAYS_SUSPECT = [
    ("\ufffd", "\ufffd", gettext_lazy("有无法识别的字符（�）")),
    ("\u2500", "\u259f", gettext_lazy("有制表符号（如 ─ │ ┐）")),
    ("\u3300", "\u33ff", gettext_lazy("有 CJK 兼容字符（如 ㌀ ㎡）")),
    ("\uf900", "\ufaff", gettext_lazy("有 CJK 兼容汉字")),
    ("\ue000", "\uf8ff", gettext_lazy("有私用区字符")),
    ("\uff61", "\uff9f", gettext_lazy("有半角片假名")),
]
# Letters and signs that are rare in a Chinese catalogue and common in mis-decoded Chinese
# (GB18030 read as MARC-8 or Latin-1): Latin-1 signs and accented letters, Latin Extended,
# combining diacritics, spacing modifiers, letterlike symbols (ℓ ℗), ♭ ♯.
_LATIN_EXTRA = [("\u00a1", "\u036f"), ("\u2100", "\u214f"), ("\u266d", "\u266f")]


# Each as one character class, so that a title is searched once, not a character at a time: the
# C0 and C1 controls other than tab and line breaks, lone surrogates, and _ALWAYS_SUSPECT.
_SUSPECT_CHAR = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff"
    + "".join(f"{low}-{high}" for low, high, _reason in _ALWAYS_SUSPECT)
    + "]"
)
_LATIN_EXTRA_CHAR = re.compile("[" + "".join(f"{low}-{high}" for low, high in _LATIN_EXTRA) + "]")
_HAN_CHAR = re.compile("[\u3400-\u9fff]")


def suspect_reason(text: str, *, chinese: bool) -> str:
    """Why a text looks mis-decoded ("" when it reads well). `chinese`: the file is a Chinese
    catalogue (CNMARC, a Chinese table), where accented Latin letters outnumbering the Chinese
    characters are a wrong encoding rather than a French title."""
    if not text:
        return ""
    found = _SUSPECT_CHAR.search(text)
    if found:
        char = found.group()
        if unicodedata.category(char) in ("Cc", "Cs"):
            return str(_("有控制字符"))
        for low, high, reason in _ALWAYS_SUSPECT:
            if low <= char <= high:
                return str(reason)
    if chinese:
        latin = len(_LATIN_EXTRA_CHAR.findall(text))
        if latin >= 2 and latin > len(_HAN_CHAR.findall(text)):
            return str(_("有大量西文符号和带重音的字母，不像中文书目"))
    return ""


def flag_suspect_text(manifest: Manifest, *, chinese: bool) -> None:
    """Mark each title whose text looks mis-decoded, and warn once for the file, with examples,
    so that a wrong encoding is seen in the preview instead of being committed."""
    examples = []
    for entry in manifest.titles:
        for value in (entry.title, entry.responsibility, entry.publisher):
            reason = suspect_reason(value, chinese=chinese)
            if reason:
                entry.suspect = reason
                if len(examples) < 3:
                    examples.append(f"{entry.where}“{value[:30]}”（{reason}）")
                break
    count = len(manifest.suspect_titles)
    if count:
        manifest.warn(
            _("文字编码"),
            "",
            "",
            _(
                "有 %(n)s 种书的文字看起来是乱码，可能选错了文字编码：%(examples)s。"
                "请核对下面的样例，必要时换一种编码重新预览。"
            )
            % {"n": count, "examples": "；".join(examples)},
        )
