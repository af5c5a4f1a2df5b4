"""Background jobs of circulation: the daily expiry of holds, as `expire_holds` does."""

from django.utils.translation import gettext as _

from circulation.services.holds import holds_expire


def hold_expiry(job, progress) -> dict:
    progress.start(1, _("处理到期的预约……"))
    counts = holds_expire(dry_run=False)
    return {
        "message": _("%(waiting)s 个预约过期，%(trapped)s 册留书逾期未取。") % counts,
        **counts,
    }
