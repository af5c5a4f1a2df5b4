"""ISBNs as they come in manifests: with hyphens, qualifiers such as "(pbk.)" or "(v. 1)",
ISBN-10 or ISBN-13. Stored as ISBN-13 digits; a bad checksum is refused, never "fixed"."""

import re

from django.utils.translation import gettext as _
from stdnum import ean
from stdnum import isbn as stdnum_isbn
from stdnum.exceptions import InvalidChecksum, ValidationError

# The ISBN proper is the first run of digits, hyphens, spaces and a final X; the rest is a
# qualifier ("0914378287 (v. 1)", "9780743297790 (alk. paper)").
_LEADING = re.compile(r"^\s*(?:ISBN[:：]?\s*)?([0-9Xx][0-9Xx\- ]*[0-9Xx])", re.IGNORECASE)


def _isbn10_check_digit(digits: str) -> str:
    check = (11 - sum((10 - i) * int(d) for i, d in enumerate(digits)) % 11) % 11
    return "X" if check == 10 else str(check)


def normalise_isbn(raw: str) -> str:
    """ISBN-13 digits for `raw`, "" when it is empty; ValueError with a reason otherwise."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    match = _LEADING.match(raw)
    if not match:
        raise ValueError(_("不是 ISBN"))
    candidate = match.group(1).replace("-", "").replace(" ", "").upper()
    # The common case, checked directly (stdnum's generic cleaning costs more than the check
    # itself on a 30,000-row manifest); anything unusual goes through stdnum.
    if len(candidate) == 13 and candidate.isdigit() and candidate[:3] in ("978", "979"):
        if ean.calc_check_digit(candidate[:12]) != candidate[12]:
            raise ValueError(_("ISBN 校验位不正确"))
        return candidate
    if len(candidate) == 10 and candidate[:9].isdigit():
        if _isbn10_check_digit(candidate[:9]) != candidate[9]:
            raise ValueError(_("ISBN 校验位不正确"))
        body = "978" + candidate[:9]
        return body + ean.calc_check_digit(body)
    candidate = stdnum_isbn.compact(candidate)
    if len(candidate) not in (10, 13):
        raise ValueError(_("ISBN 应为 10 位或 13 位，这里是 %(n)s 位") % {"n": len(candidate)})
    try:
        stdnum_isbn.validate(candidate)
    except InvalidChecksum:
        raise ValueError(_("ISBN 校验位不正确")) from None
    except ValidationError:
        raise ValueError(_("不是有效的 ISBN")) from None
    return stdnum_isbn.to_isbn13(candidate)
