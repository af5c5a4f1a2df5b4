"""Class numbers of the Chinese Library Classification (中图法), checked against the classes
loaded in ClcClass. The notation is not strictly hierarchical below the second level (K825 is a
child of K81), so a number is checked by its top class, and class T by its two-letter subclass."""

import re
import unicodedata

from django.utils.translation import gettext as _

_SYNTAX = re.compile(r'^[A-Z][A-Z0-9.\-=:/"()<>+]*$')


def normalise_clc(raw: str) -> str:
    """Half-width, upper case, no spaces: "ｉ２４７．５" → "I247.5"; brackets kept."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw or "")).upper()


class ClcChecker:
    def __init__(self, codes):
        codes = list(codes)
        self.top = {code for code in codes if len(code) == 1}
        # Subclasses of T written with two letters: TB, TD … TV.
        self.t_subclasses = {code for code in codes if re.fullmatch(r"T[A-Z]", code)}

    @classmethod
    def from_database(cls):
        from collections_app.models import ClcClass

        return cls(ClcClass.objects.values_list("code", flat=True))

    def check(self, raw: str) -> str:
        """The normalised number, "" when empty; ValueError with a reason otherwise."""
        number = normalise_clc(raw)
        if not number:
            return ""
        bare = number[1:-1] if number.startswith("[") and number.endswith("]") else number
        if not _SYNTAX.match(bare):
            raise ValueError(_("不是中图法分类号"))
        if bare[0] not in self.top:
            raise ValueError(_("中图法没有“%(top)s”大类") % {"top": bare[0]})
        if bare[0] == "T" and len(bare) > 1 and bare[1].isalpha() and bare[:2] not in self:
            raise ValueError(_("中图法 T 大类下没有“%(sub)s”类") % {"sub": bare[:2]})
        return number

    def __contains__(self, code):
        return code in self.t_subclasses
