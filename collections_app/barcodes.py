"""A barcode or a box code as it reaches the platform, made comparable: the one place that
cleans what a scanner, a keyboard, a pasted list, the API or a command sends.

A keyboard-wedge scanner types the code and Enter. Behind a Chinese input method it may type
full-width letters and digits (ＮＬ０００１２３) or a full-width space; copying from a
spreadsheet or a chat adds spaces, tabs and zero-width characters. NFKC folds full-width forms
to ASCII; whitespace and invisible characters are dropped. Letters keep their case: barcodes
are stored as the manifest gave them.

Every entry point cleans through `normalise_barcode` (services at their entry, forms through
`BarcodeField` and `BarcodeListField`), so the desk, receiving, transfers, boxes, displays,
rotation plans and the API find the same volume for the same label.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django import forms
from django.utils.translation import gettext_lazy as _

# Item.barcode and Box.code hold at most this many characters.
MAX_LENGTH = 32
# What a barcode may look like: letters, digits and hyphens, 3 to 32 of them.
BARCODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-]{2,31}$")
# Between the codes of a pasted list (after NFKC, so full-width commas are ASCII already).
_SEPARATORS = re.compile(r"[\s,;、|]+")
# Anything longer than this is not a scan: cut before cleaning, so a paste cannot cost much.
_MAX_RAW = 200


def _visible(text: str) -> str:
    """NFKC, without invisible format characters (zero-width space, BOM, bidi marks) and
    control characters other than line breaks and tabs."""
    if text.isascii() and text.isprintable():
        return text  # what NFKC and the filter below leave as it is: nearly every code read
    text = unicodedata.normalize("NFKC", text)
    return "".join(
        ch
        for ch in text
        if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp")
    )


def normalise_barcode(raw) -> str:
    """One scanned or typed code: "ＮＬ０００ １２３\u200b" → "NL000123"."""
    text = _visible(str(raw or "")[:_MAX_RAW])
    return "".join(ch for ch in text if not ch.isspace())


def is_barcode(code: str) -> bool:
    return bool(BARCODE.match(code))


def split_barcodes(raw) -> list[str]:
    """The codes of one cell or one line, separated by spaces, commas or semicolons."""
    return [code for code in _SEPARATORS.split(_visible(str(raw or ""))) if code]


@dataclass(frozen=True)
class ListedCode:
    line: int  # 1-based line of the pasted text
    code: str


@dataclass(frozen=True)
class BarcodeList:
    """A pasted list: the well-formed codes in order (each once) and the lines that were not."""

    codes: list[ListedCode]
    invalid: list[ListedCode]

    @property
    def values(self) -> list[str]:
        return [listed.code for listed in self.codes]

    def line_of(self, code: str) -> int:
        return next(listed.line for listed in self.codes if listed.code == code)


def parse_barcode_list(raw, *, limit: int = 5000) -> BarcodeList:
    codes: list[ListedCode] = []
    invalid: list[ListedCode] = []
    seen: set[str] = set()
    for number, line in enumerate(str(raw or "").splitlines(), start=1):
        for code in split_barcodes(line):
            if not is_barcode(code):
                invalid.append(ListedCode(number, code[:40]))
            elif code not in seen:
                seen.add(code)
                codes.append(ListedCode(number, code))
        if len(codes) + len(invalid) > limit:
            break
    return BarcodeList(codes, invalid)


class BarcodeField(forms.CharField):
    """One barcode or box code, cleaned by `normalise_barcode`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("条码"))
        kwargs.setdefault("max_length", MAX_LENGTH)
        kwargs.setdefault("error_messages", {"required": _("请扫描或输入条码。")})
        super().__init__(**kwargs)
        # The browser must accept what a scanner types before cleaning (padding, full width).
        self.widget.attrs["maxlength"] = str(_MAX_RAW)
        self.widget.attrs.setdefault("autocomplete", "off")
        self.widget.attrs.setdefault("spellcheck", "false")

    def to_python(self, value):
        return normalise_barcode(value)

    def validate(self, value):
        super().validate(value)
        if value and not is_barcode(value):
            raise forms.ValidationError(
                _("%(code)s：条码只能由字母、数字和连字符组成，3 到 32 位。"),
                code="invalid",
                params={"code": value[:40]},
            )


class BarcodeListField(forms.CharField):
    """Barcodes pasted one a line (or separated by spaces or commas). Cleans to a
    `BarcodeList`: malformed codes are kept aside with their line numbers, never thrown away
    with the rest; the view decides what to say about them and about unknown codes."""

    widget = forms.Textarea

    def __init__(self, *, limit: int = 5000, **kwargs):
        self.limit = limit
        kwargs.setdefault("label", _("条码"))
        super().__init__(**kwargs)

    def to_python(self, value):
        return parse_barcode_list(super().to_python(value), limit=self.limit)

    def validate(self, value):
        if self.required and not value.codes and not value.invalid:
            raise forms.ValidationError(self.error_messages["required"], code="required")

    def run_validators(self, value):
        pass
