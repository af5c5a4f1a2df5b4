"""The pinyin of a title, as readers type it into the public catalogue's search box.

Readers on a phone search 红楼梦 by its full pinyin (`hongloumeng`) or by its initials (`hlm`).
Both are worked out once, when a title is created, and kept in indexed columns of Title: every
path that creates titles (the manifest import, the demo generator) and the backfill for older
rows call `title_search_keys`, so the catalogue searches one spelling whatever wrote the row.

pypinyin picks the reading of a character from the words around it (重庆 chongqing, 重要
zhongyao); a character with several readings gets its most common one, which is what readers
type. Letters and digits in a title are kept, in lower case: `Python编程` is `pythonbiancheng`,
initials `pbc`.
"""

import re
import unicodedata

from pypinyin import lazy_pinyin

# As long as the columns of Title that hold them.
PINYIN_MAX = 1000
INITIALS_MAX = 500

_WORD = re.compile(r"[a-z0-9]+")


def _is_syllable(piece: str) -> bool:
    # lazy_pinyin returns a Chinese character as one lower-case syllable, anything else as the
    # run of text it was (letters, digits, punctuation and spaces together).
    return piece.isascii() and piece.isalpha() and piece.islower()


def title_search_keys(title: str) -> dict[str, str]:
    """{"title_pinyin": …, "title_initials": …} for `title`, ready to pass to Title(…)."""
    text = unicodedata.normalize("NFKC", title or "").strip()
    if not text:
        return {"title_pinyin": "", "title_initials": ""}
    full: list[str] = []
    initials: list[str] = []
    hanzi = lazy_pinyin(text, errors=lambda chars: [f"\0{chars}"])
    for piece in hanzi:
        if piece.startswith("\0"):
            # Not Chinese: each word counts whole in the full spelling, and by its first letter
            # (numbers whole) in the initials.
            for word in _WORD.findall(piece[1:].lower()):
                full.append(word)
                initials.append(word if word.isdigit() else word[0])
        elif _is_syllable(piece):
            full.append(piece)
            initials.append(piece[0])
    return {
        "title_pinyin": "".join(full)[:PINYIN_MAX],
        "title_initials": "".join(initials)[:INITIALS_MAX],
    }


def query_pinyin(query: str) -> str:
    """A reader's query as the pinyin columns hold it: lower case, letters and digits only."""
    return "".join(_WORD.findall(unicodedata.normalize("NFKC", query or "").lower()))


def fill_title_search_keys(titles, *, refresh: bool = False, batch: int = 2000) -> int:
    """Work out the pinyin of the titles in the queryset `titles` that have none yet (or of all
    of them with `refresh`), in batches; returns how many rows were written.

    For rows written before the columns existed, or by a path that did not fill them (a data
    fix in the admin before it did). Works on the historical model of a migration too."""
    if not refresh:
        titles = titles.filter(title_pinyin="", title_initials="").exclude(title="")
    written = 0
    last = 0
    while True:
        rows = list(titles.filter(pk__gt=last).order_by("pk").only("pk", "title")[:batch])
        if not rows:
            return written
        for row in rows:
            for field, value in title_search_keys(row.title).items():
                setattr(row, field, value)
        titles.model.objects.bulk_update(rows, ["title_pinyin", "title_initials"])
        written += len(rows)
        last = rows[-1].pk
