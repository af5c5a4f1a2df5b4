"""Report periods written as people write them: 2026-06 (a month), 2026-Q2 (a quarter), 2026
(a year). A period is a window of local days [start, end)."""

import re
from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

from reports.facts import next_month

_PATTERN = re.compile(r"^\s*(\d{4})(?:-(?:(\d{1,2})|[Qq]([1-4])))?\s*$")


@dataclass(frozen=True)
class Period:
    kind: str  # month, quarter, year
    start: date
    end: date  # exclusive
    text: str

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.end.toordinal() - 1)


def parse_period(text: str) -> Period:
    """ValueError with a message for the reader when `text` is not a period."""
    match = _PATTERN.match(text or "")
    if not match:
        raise ValueError(
            _("期间“%(text)s”无法识别：请写成 2026-06（月）、2026-Q2（季度）或 2026（年）。")
            % {"text": text}
        )
    year, month, quarter = match.groups()
    year = int(year)
    if not 2000 <= year <= 2100:
        raise ValueError(_("年份 %(year)d 超出范围（2000–2100）。") % {"year": year})
    if month:
        month = int(month)
        if not 1 <= month <= 12:
            raise ValueError(_("月份 %(month)d 不存在。") % {"month": month})
        start = date(year, month, 1)
        return Period("month", start, next_month(start), f"{year}-{month:02d}")
    if quarter:
        start = date(year, 3 * int(quarter) - 2, 1)
        end = next_month(next_month(next_month(start)))
        return Period("quarter", start, end, f"{year}-Q{quarter}")
    return Period("year", date(year, 1, 1), date(year + 1, 1, 1), str(year))


def this_month(today: date) -> Period:
    return parse_period(f"{today.year}-{today.month:02d}")


def this_year(today: date) -> Period:
    return parse_period(str(today.year))
