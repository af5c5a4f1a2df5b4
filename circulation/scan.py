"""What a barcode scanner or a keyboard typed into a desk box, made comparable.

A keyboard wedge types the code and Enter; a Chinese input method may type full-width digits
(１２３) or add spaces. NFKC folds full-width forms to ASCII; anything longer than a code can be
is refused before it reaches the database.
"""

import unicodedata

MAX_CODE = 32


def clean_code(raw) -> str:
    text = unicodedata.normalize("NFKC", str(raw or ""))
    return "".join(ch for ch in text if ch.isprintable() and not ch.isspace())
