"""Closed days (闭馆日) of a library or one of its sites: due dates skip them."""

from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.scope import can_manage_library
from circulation.models import ClosedDay
from collections_app.errors import Refused
from collections_app.models import Library


def closed_days_add(*, user, library, site, first: date, last: date, reason: str = "") -> int:
    """Mark every day from `first` to `last` closed; days already marked are left as they are,
    so sending the same form twice marks them once. The library row is locked while the days
    are read and written, so two librarians adding the same days at once never collide."""
    if not can_manage_library(user, library):
        raise Refused(_("只有县馆馆员可以登记闭馆日。"), code="librarian_only")
    if site is not None and site.library_id != library.pk:
        raise Refused(_("只能为本馆的站点登记闭馆日。"), code="site_not_ours")
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    with transaction.atomic():
        Library.objects.select_for_update().filter(pk=library.pk).first()
        known = set(
            ClosedDay.objects.filter(library=library, site=site, date__in=days).values_list(
                "date", flat=True
            )
        )
        rows = [
            ClosedDay(library=library, site=site, date=day, reason=reason)
            for day in days
            if day not in known
        ]
        try:
            with transaction.atomic():
                ClosedDay.objects.bulk_create(rows)
        except IntegrityError:
            # The unique constraints are the last word if anything slips past the lock.
            raise Refused(
                _("有闭馆日刚被登记过，请刷新页面后再试。"), code="closed_day_exists"
            ) from None
    return len(rows)


def closed_day_remove(*, user, day: ClosedDay) -> None:
    if not can_manage_library(user, day.library):
        raise Refused(_("只有县馆馆员可以删除闭馆日。"), code="librarian_only")
    day.delete()
