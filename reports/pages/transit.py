"""调拨与在途: transfers and volumes moved by reason with their time in transit, the transfers
overdue in transit, and the busiest routes, read from the transfers themselves (a handful a
day: no summary needed)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scope import LoanScope, scoped
from collections_app.models import Transfer, TransferLine
from reports.engine.dimensions import Params
from reports.facts import local_midnight
from reports.tables import RATIO, TEXT, Column, Table


def transit_report(user_or_scope, p: Params, now: datetime | None = None) -> list[Table]:
    now = now or timezone.now()
    transfers = _transfers(user_or_scope)
    if "site" in p.filters:
        site = p.filters["site"]
        transfers = transfers.filter(Q(source_id=site) | Q(destination_id=site))
    if "library" in p.filters:
        transfers = transfers.filter(library_id=p.filters["library"])
    moved = transfers.filter(
        dispatched_at__gte=local_midnight(p.start), dispatched_at__lt=local_midnight(p.end)
    )
    rows = (
        moved.values("reason")
        .annotate(transfers=Count("id", distinct=True), volumes=Count("lines"))
        .order_by()
    )
    volumes = {r["reason"]: (r["transfers"], r["volumes"]) for r in rows}
    # Time in transit per transfer: a handful of transfers per day, arranged here.
    durations: dict[str, list[float]] = {}
    for reason, dispatched, received in moved.filter(received_at__isnull=False).values_list(
        "reason", "dispatched_at", "received_at"
    ):
        durations.setdefault(reason, []).append((received - dispatched).total_seconds() / 86400)
    table = Table(
        "transit-by-reason",
        _("调拨与轮换（按原因）"),
        [
            Column(_("原因"), TEXT),
            Column(_("发出调拨单")),
            Column(_("调拨册数")),
            Column(_("已接收调拨单")),
            Column(_("平均在途天数"), RATIO),
            Column(_("最长在途天数"), RATIO),
        ],
        chart="bar",
    )
    all_durations = []
    for reason, label in Transfer.Reason.choices:
        if reason not in volumes:
            continue
        spans = durations.get(reason, [])
        all_durations += spans
        table.rows.append(
            [
                str(label),
                volumes[reason][0],
                volumes[reason][1],
                len(spans),
                round(sum(spans) / len(spans), 2) if spans else None,
                round(max(spans), 2) if spans else None,
            ]
        )
    table.total = [
        _("合计"),
        sum(v[0] for v in volumes.values()),
        sum(v[1] for v in volumes.values()),
        len(all_durations),
        round(sum(all_durations) / len(all_durations), 2) if all_durations else None,
        round(max(all_durations), 2) if all_durations else None,
    ]
    cutoff = now - timedelta(days=settings.TRANSIT_OVERDUE_DAYS)
    overdue = (
        transfers.filter(status=Transfer.Status.DISPATCHED, dispatched_at__lt=cutoff)
        .select_related("source", "destination")
        .annotate(volumes=Count("lines"))
        .order_by("dispatched_at", "id")
    )
    late = Table(
        "overdue-transits",
        _("超期在途（发出超过 %(days)d 天未接收）") % {"days": settings.TRANSIT_OVERDUE_DAYS},
        [
            Column(_("调拨单"), TEXT),
            Column(_("发出站点"), TEXT),
            Column(_("接收站点"), TEXT),
            Column(_("发出日期"), TEXT),
            Column(_("在途天数")),
            Column(_("册数")),
        ],
    )
    for transfer in overdue[:200]:
        late.rows.append(
            [
                f"#{transfer.pk}",
                transfer.source.name,
                transfer.destination.name if transfer.destination else _("国家图书馆"),
                timezone.localtime(transfer.dispatched_at).date().isoformat(),
                (now - transfer.dispatched_at).days,
                transfer.volumes,
            ]
        )
    routes = (
        TransferLine.objects.filter(transfer__in=moved)
        .values("transfer__source__name", "transfer__destination__name")
        .annotate(n=Count("id"))
        .order_by("-n", "transfer__source__name")[:30]
    )
    route_table = Table(
        "transit-routes",
        _("主要调拨路线"),
        [Column(_("发出站点"), TEXT), Column(_("接收站点"), TEXT), Column(_("调拨册数"))],
    )
    for r in routes:
        route_table.rows.append(
            [
                r["transfer__source__name"],
                r["transfer__destination__name"] or _("国家图书馆"),
                r["n"],
            ]
        )
    return [table, late, route_table]


def _transfers(user_or_scope):
    """The transfers a user may see, or those of a scope's libraries (the period report)."""
    if isinstance(user_or_scope, LoanScope):
        return Transfer.objects.filter(library_id__in=user_or_scope.library_ids or [])
    return scoped(Transfer.objects.all(), user_or_scope)
