"""The translation catalogues: English complete and compiled, the Chinese source as a Chinese
librarian writes it.

The interface is Chinese first; its source strings are the Chinese text and locale/en holds the
English. These tests read the catalogues that `make messages` writes (and that are committed), so
they catch a string added without its English, a .po edited without compiling, and Chinese text
with half-width punctuation or stray English words.
"""

import ast
import gettext
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

ENGLISH = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES"
DOMAINS = ["django", "djangojs"]


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str = ""
    msgctxt: str | None = None
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    references: list[str] = field(default_factory=list)

    def __str__(self):
        where = self.references[0] if self.references else "?"
        return f"{self.msgid!r} ({where})"


_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+(".*")$')


def read_po(path: Path) -> list[Entry]:
    """The live entries of a .po file, header and obsolete (#~) entries left out."""
    entries, entry, key, obsolete = [], Entry(), None, False

    def finish():
        nonlocal entry, key, obsolete
        if key is not None and not obsolete and (entry.msgid or entry.msgctxt):
            entries.append(entry)
        entry, key, obsolete = Entry(), None, False

    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = line.strip()
        if not line:
            finish()
        elif line.startswith("#~"):
            obsolete = True
        elif line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
        elif line.startswith("#:"):
            entry.references.extend(line[2:].split())
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            _append(entry, key, ast.literal_eval(line))
        else:
            match = _KEYWORD.match(line)
            assert match, f"{path.name}: cannot read {line!r}"
            key = match.group(1)
            if key.startswith("msgstr"):
                entry.msgstrs.append("")
            _append(entry, key, ast.literal_eval(match.group(2)))
    return entries


def _append(entry: Entry, key: str, text: str) -> None:
    if key.startswith("msgstr"):
        entry.msgstrs[-1] += text
    else:
        setattr(entry, key, (getattr(entry, key) or "") + text)


def _entries(domain):
    return read_po(ENGLISH / f"{domain}.po")


# --- English: complete, faithful, compiled -----------------------------------------------------


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_english_entry_is_translated_and_none_is_fuzzy(domain):
    entries = _entries(domain)
    assert entries, f"{domain}.po has no entries"
    untranslated = [str(e) for e in entries if not all(e.msgstrs)]
    fuzzy = [str(e) for e in entries if "fuzzy" in e.flags]
    assert not untranslated, "Without English:\n" + "\n".join(untranslated)
    assert not fuzzy, "Fuzzy (check, then drop the flag):\n" + "\n".join(fuzzy)


# %(name)s with its conversion, {name}, %s / %d, and HTML tags.
_KEPT = re.compile(
    r"%\([A-Za-z_]\w*\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%[sdif]|\{[A-Za-z_]\w*\}|<[^<>]+>"
)


@pytest.mark.parametrize("domain", DOMAINS)
def test_english_translations_keep_every_placeholder_and_tag(domain):
    wrong = []
    for entry in _entries(domain):
        sources = [entry.msgid] + [entry.msgid_plural or entry.msgid] * (len(entry.msgstrs) - 1)
        for source, english in zip(sources, entry.msgstrs, strict=True):
            if english and sorted(_KEPT.findall(source)) != sorted(_KEPT.findall(english)):
                wrong.append(f"{entry} -> {english!r}")
    assert not wrong, "Placeholders or tags differ:\n" + "\n".join(wrong)


# Chinese left in an English text is a sign of a copy that was never translated. The one place
# it belongs: the language menu names each language in its own script.
CHINESE_IN_ENGLISH_ALLOWED = {"简体中文"}
_CHINESE_OR_FULL_WIDTH = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff，。：；（）！？、]")


@pytest.mark.parametrize("domain", DOMAINS)
def test_english_translations_hold_no_chinese_text_or_punctuation(domain):
    wrong = [
        f"{entry} -> {english!r}"
        for entry in _entries(domain)
        for english in entry.msgstrs
        if _CHINESE_OR_FULL_WIDTH.search(english) and english not in CHINESE_IN_ENGLISH_ALLOWED
    ]
    assert not wrong, "Chinese in the English catalogue:\n" + "\n".join(wrong)


def _catalogue_key(entry: Entry) -> str:
    return f"{entry.msgctxt}\x04{entry.msgid}" if entry.msgctxt is not None else entry.msgid


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_compiled_english_catalogue_holds_exactly_what_the_po_says(domain):
    """A .po edited without `compilemessages` leaves the pages in Chinese: the .mo must carry
    every translated entry of the .po, word for word (file dates mean nothing after a clone)."""
    expected = {}
    for entry in _entries(domain):
        if not all(entry.msgstrs) or "fuzzy" in entry.flags:
            continue
        if entry.msgid_plural:
            for number, english in enumerate(entry.msgstrs):
                expected[(_catalogue_key(entry), number)] = english
        else:
            expected[_catalogue_key(entry)] = entry.msgstrs[0]
    with open(ENGLISH / f"{domain}.mo", "rb") as compiled:
        catalogue = dict(gettext.GNUTranslations(compiled)._catalog)
    catalogue.pop("", None)  # the header
    missing = sorted(str(key) for key in expected.keys() - catalogue.keys())
    stale = sorted(
        str(key) for key in expected.keys() & catalogue.keys() if expected[key] != catalogue[key]
    )
    extra = sorted(str(key) for key in catalogue.keys() - expected.keys())
    assert not (missing or stale or extra), (
        f"Run compilemessages: {len(missing)} missing, {len(stale)} stale, {len(extra)} extra; "
        f"for example {(missing + stale + extra)[:5]}"
    )


def test_the_pages_speak_the_english_of_the_catalogue():
    """Django's own lookup, not just the file: nothing earlier on its path (an app's catalogue,
    Django's) answers a msgid of ours with something else."""
    with translation.override("en"):
        assert translation.gettext("批次") == "Consignment"
        assert translation.gettext("找不到这个页面") == "Page not found"
        assert translation.ngettext("共 %(counter)s 条记录", "共 %(counter)s 条记录", 1) == (
            "%(counter)s record"
        )
        wrong = []
        for entry in _entries("django"):
            if entry.msgid_plural:
                answers = [
                    translation.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                    if entry.msgctxt is not None
                    else translation.ngettext(entry.msgid, entry.msgid_plural, n)
                    for n in (1, 2)
                ]
            elif entry.msgctxt is not None:
                answers = [translation.pgettext(entry.msgctxt, entry.msgid)]
            else:
                answers = [translation.gettext(entry.msgid)]
            if answers != entry.msgstrs:
                wrong.append(f"{entry} -> {answers!r}, the catalogue says {entry.msgstrs!r}")
    assert not wrong, "\n".join(wrong[:20])


def test_the_javascript_catalogue_is_served_in_english(client):
    (entry,) = [e for e in _entries("djangojs") if e.msgid.startswith("网络或服务器出错")]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    script = client.get("/jsi18n/").content.decode()
    assert json.dumps(entry.msgstrs[0]) in script


def test_a_file_that_is_no_manifest_is_named_in_good_english_and_chinese():
    """The kind of file is put into a sentence by the code: the space it adds before a Latin
    word must not double the space of the English sentence."""
    from collections_app.importing.detect import detect_format

    png = b"\x89PNG\r\n\x1a\n" + bytes(32)
    with translation.override("en"), pytest.raises(ValueError) as english:
        detect_format(png)
    with translation.override("zh-hans"), pytest.raises(ValueError) as chinese:
        detect_format(png)
    assert str(english.value).startswith("This is a PNG image, not a manifest file. ")
    assert str(chinese.value).startswith("这是一个 PNG 图片，不是清单文件。")


# --- Chinese source strings ---------------------------------------------------------------------

_CJK = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_URL = re.compile(r"https?://\S+")

# Half-width punctuation next to a Chinese character, spaces between allowed: a Chinese sentence
# takes ，。：；？！（）“” and 【】. What is not next to a Chinese character is left alone, so times
# (12:30), ratios, ISBN:978…, file names and English inside the text need no exception.
_HALF_WIDTH = r"[:,;?!()\"'\[\]]"
_HALF_WIDTH_NEXT_TO_CHINESE = re.compile(
    rf"{_CJK}\s*{_HALF_WIDTH}|{_HALF_WIDTH}\s*{_CJK}|{_CJK}\.(?!\w)"
)


# Exception: the argument of Django's yesno filter (`|yesno:_("允许,不允许")`) is a list that
# the filter splits at its commas; the commas are never shown. Told by the template line itself.
def _is_yesno_argument(entry: Entry) -> bool:
    def line_of(reference):
        path, _colon, number = reference.rpartition(":")
        try:
            lines = (Path(settings.BASE_DIR) / path).read_text(encoding="utf-8").splitlines()
            return lines[int(number) - 1]
        except (OSError, ValueError, IndexError):
            return ""

    return bool(entry.references) and all("yesno" in line_of(r) for r in entry.references)


def _chinese_msgids():
    for domain in DOMAINS:
        for entry in _entries(domain):
            for text in filter(None, (entry.msgid, entry.msgid_plural)):
                if re.search(_CJK, text):
                    yield entry, text


def _prose(text: str) -> str:
    """The words a reader sees: placeholders, HTML tags and addresses taken out."""
    text = _URL.sub("", text)
    text = re.sub(r"<[^<>]+>", "", text)
    return _KEPT.sub("\x00", text)


def test_chinese_source_strings_use_full_width_punctuation():
    wrong = [
        f"{entry}: {', '.join(repr(m.group()) for m in found)}"
        for entry, text in _chinese_msgids()
        if not _is_yesno_argument(entry)
        and (found := list(_HALF_WIDTH_NEXT_TO_CHINESE.finditer(_prose(text))))
    ]
    assert not wrong, "Use ，：；？！（）“” in Chinese text:\n" + "\n".join(wrong)


# Latin words a Chinese librarian writes as they are, a line for each kind: bibliographic
# standards and bodies; file formats and encodings; the programs that write them; the web and the
# platform's interfaces; library systems whose exports the importer reads; paper, sizes, keys and
# a date pattern shown to be typed.
ALLOWED_WORDS = {
    word
    for line in """
        ISBN ISBN-10 ISBN-13 ISO MARC MARC21 MARCXML CNMARC UNIMARC NLC CLC
        CSV XLSX XML DOCTYPE PDF ZIP gzip bzip2 xz 7z RAR PNG JPEG GIF TIFF WebP HEIC MP3 MP4 WAV
        RTF SQLite UTF-8 GB18030 GBK CJK
        Excel WPS Word PowerPoint OpenDocument LibreOffice Windows
        API OpenAPI JSON URL ID QR
        Koha dp2
        A4 KB MB Esc YYYY-MM-DD
    """.splitlines()
    for word in line.split()
}
# What a system administrator types, in the help and messages of management commands: the demo
# password, the command that runs the demo, the setting that marks production.
ALLOWED_LITERALS = ["shared-loan-demo", "make run", "DJANGO_ENV=production"]
_LATIN_WORD = re.compile(r"(?<![\w.$-])(?:--)?[A-Za-z][\w.+-]*(?<![.-])")
_ALLOWED_PATTERNS = [
    re.compile(r"--[a-z][a-z-]*"),  # a command's option: --execute
    re.compile(r"\w*_\w*"),  # a setting or command: JOB_KEEP_DAYS, db_worker
    re.compile(r"T?[A-Z]\d*(?:\.\d+)*"),  # a CLC class: I247.5, T, TP3
]


def test_chinese_source_strings_use_no_english_words_beyond_the_allow_list():
    wrong = {}
    for entry, text in _chinese_msgids():
        prose = _prose(text)
        for literal in ALLOWED_LITERALS:
            prose = prose.replace(literal, "")
        prose = re.sub(r"\d+\$[a-z0-9]", "", prose)  # a MARC subfield: 906$b
        prose = re.sub(r"\.[a-z]{2,4}\b", "", prose)  # a file name's ending: .xlsx
        for word in _LATIN_WORD.findall(prose):
            if word in ALLOWED_WORDS or any(p.fullmatch(word) for p in _ALLOWED_PATTERNS):
                continue
            wrong.setdefault(word, str(entry))
    assert not wrong, "English words in Chinese text (write them in Chinese, or allow them):\n" + (
        "\n".join(f"{word}: {where}" for word, where in sorted(wrong.items()))
    )
