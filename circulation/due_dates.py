"""Due dates: the end of the due day in the library's time zone, moved past closed days.

A loan of N days taken on day D is due at 23:59:59 on D + N; when that day is a closed day of
the loan's site (or of the whole library), it moves to the next open day, so that nobody is
overdue because the door was shut.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from circulation.models import ClosedDay
from sharedloan.prepared import fixed_cursor

# A site closed longer than this is not lending; stop looking.
MAX_CLOSED_RUN = 120


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def end_of_day(day: date) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=local_zone())


def closed_dates(site, start: date, end: date) -> set[date]:
    """The days from `start` to `end` closed at `site` or at its whole library. A fixed SQL
    string: every checkout and renewal asks, and the ORM took longer to build the query than
    PostgreSQL to answer it."""
    with fixed_cursor() as cursor:
        cursor.execute(
            f"SELECT date FROM {ClosedDay._meta.db_table} WHERE library_id = %s "
            "AND date >= %s AND date <= %s AND (site_id = %s OR site_id IS NULL)",
            [site.library_id, start, end, site.pk],
        )
        return {day for (day,) in cursor.fetchall()}


def next_open_day(site, day: date) -> date:
    closed = closed_dates(site, day, day + timedelta(days=MAX_CLOSED_RUN))
    while day in closed:
        day += timedelta(days=1)
    return day


def due_at(*, site, start: datetime, days: int, closed_days_ahead: bool = True) -> datetime:
    """When a loan of `days` days taken at `start` at `site` is due. A caller that knows no day
    from `start` on is closed at `site` (the checkout's count statement asks) passes
    `closed_days_ahead=False`, and the calendar is not read."""
    day = timezone.localtime(start, local_zone()).date() + timedelta(days=days)
    if not closed_days_ahead:
        return end_of_day(day)
    return end_of_day(next_open_day(site, day))
