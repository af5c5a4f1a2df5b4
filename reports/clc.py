"""The second-level CLC class (中图法二级类目) of a class number, for reports.

A number belongs to the longest level-2 code it starts with ("I247.57" → "I2", "F491" → "F49",
"TP311" → "TP"). Some level-2 classes are ranges ("D33/37", "E3/7", "I3/7"): a number falls in
one when its digits after the letters are inside the range. A few level-2 classes hold
children that do not share their prefix (_ALIASES). Bracketed numbers (obsolete classes)
count like their content. A number matching nothing reports under its top class only (clc2 "").
"""

import re

from collections_app.importing.clc import normalise_clc

_RANGE = re.compile(r"^([A-Z]+)(\d+)/(\d+)$")
# Level-2 classes whose children do not share their prefix: 传记 K81 holds K82–K84, 文物考古
# K85 holds K86–K88, and 教育 G4 holds 世界各国教育 G5, 中国教育 G52, 各级教育 G6, G7.
_ALIASES = {"K82": "K81", "K83": "K81", "K84": "K81", "K86": "K85", "K87": "K85", "K88": "K85"}
_ALIASES.update({"G5": "G4", "G6": "G4", "G7": "G4"})


class SecondLevel:
    def __init__(self, codes):
        self.prefixes = []
        self.ranges = []
        for code in codes:
            bare = code.strip("[]")
            match = _RANGE.match(bare)
            if match:
                letters, low, high = match.groups()
                self.ranges.append((code, letters, int(low), int(high), len(low)))
            else:
                self.prefixes.append((code, bare))

    @classmethod
    def from_database(cls):
        from collections_app.models import ClcClass

        return cls(ClcClass.objects.filter(level=2).values_list("code", flat=True))

    def of(self, number: str) -> str:
        number = normalise_clc(number).strip("[]")
        if not number:
            return ""
        for prefix, target in _ALIASES.items():
            if number.startswith(prefix):
                return target
        best, score = "", 0
        for code, bare in self.prefixes:
            if len(bare) > score and number.startswith(bare):
                best, score = code, len(bare)
        for code, letters, low, high, width in self.ranges:
            digits = number[len(letters) : len(letters) + width]
            if (
                number.startswith(letters)
                and len(digits) == width
                and digits.isdigit()
                and low <= int(digits) <= high
                and len(letters) + width > score
            ):
                best, score = code, len(letters) + width
        return best
