"""Single values of a manifest: titles, barcodes, prices, years, copies."""

import re
import unicodedata
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _

from collections_app.barcodes import is_barcode, normalise_barcode

# Non-sorting markers around leading articles or ignored words: the C1 controls NSB/NSE as
# written by MARC systems (U+0088/U+0089, U+0098/U+009C), and the "<<…>>" convention.
_NON_FILING = re.compile("[\u0088\u0089\u0098\u009c]|<<|>>")
# Bidirectional marks that MARC21 880 fields carry around right-to-left text.
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_PRICE_STRICT = re.compile(r"(?:CNY|RMB|¥|\$)?\s*赠?\s*(\d+(?:\.\d{1,2})?)\s*元?", re.I)
# Catalogue prices: CNY (or no currency) only; "W3800" (won) or "Rs10.00" are not yuan.
_PRICE_LENIENT = re.compile(r"^(?:CNY|RMB|¥)?\s*赠?\s*(\d+(?:\.\d{1,2})?)", re.I)
_YEAR = re.compile(r"(?<!\d)(\d{4})(?!\d)")
MAX_PRICE = Decimal("9999999.99")


_SPACES = re.compile(r"\s+")


def clean_text(raw) -> str:
    text = _BIDI.sub("", _NON_FILING.sub("", str(raw or "")))
    return _SPACES.sub(" ", text).strip()


def clean_title(raw) -> str:
    """A title without non-filing markers or trailing ISBD punctuation ("Title /" → "Title")."""
    return clean_text(raw).rstrip(" /:;,=.／：；，。、،").strip()


def clean_name(raw) -> str:
    """A publisher or responsibility without the ISBD punctuation that joins it to the next
    element ("Countryman Press," → "Countryman Press")."""
    return clean_text(raw).rstrip(" /:;,=／：；，、،").strip()


def check_barcode(code: str) -> str:
    code = normalise_barcode(code)
    if not is_barcode(code):
        raise ValueError(_("条码号只能由字母、数字和连字符组成，3 到 32 位"))
    return code


def parse_price(raw, *, lenient=False) -> Decimal | None:
    """ "26.00", "CNY68.00", "￥26", "CNY赠90.00" → Decimal; None when empty. With `lenient`
    (catalogue data), a price that cannot be read is None instead of an error."""
    text = unicodedata.normalize("NFKC", str(raw or "")).strip().replace(",", "")
    if not text:
        return None
    match = (_PRICE_LENIENT.match if lenient else _PRICE_STRICT.fullmatch)(text)
    if match is None:
        if lenient:
            return None
        raise ValueError(_("价格应为数字，例如 26.00"))
    value = Decimal(match.group(1))
    if value > MAX_PRICE:
        raise ValueError(_("价格过大"))
    return value


def parse_year(raw, *, lenient=False) -> int | None:
    """The first four-digit year in "2013", "2013.5", "c1977.", "[1998]"; None when empty."""
    text = str(raw or "").strip()
    if not text:
        return None
    match = _YEAR.search(text)
    latest = timezone.now().year + 1
    if match is None or not 1000 <= int(match.group(1)) <= latest:
        if lenient:
            return None
        raise ValueError(_("出版年应为 1000 到 %(latest)s 之间的四位年份") % {"latest": latest})
    return int(match.group(1))


def parse_copies(raw) -> int | None:
    text = unicodedata.normalize("NFKC", str(raw or "")).strip()
    if not text:
        return None
    text = text.removesuffix("册").removesuffix(".0").strip()
    if not text.isdigit() or not 1 <= int(text) <= 10000:
        raise ValueError(_("册数应为 1 到 10000 之间的整数"))
    return int(text)
