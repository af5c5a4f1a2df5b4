"""Accepting suggested moves: draft transfers, one per (from, to) pair, for the librarian."""

from collections import defaultdict

from django.db import transaction
from django.utils.translation import gettext as _

from collections_app.errors import Refused
from collections_app.models import Transfer
from collections_app.services.transfers import transfer_add_matching, transfer_create


def suggestions_accept(*, user, moves) -> list[Transfer]:
    """`moves`: (source site, destination site, CLC top class, count, idle days) tuples.
    Picks the longest-idle volumes of each class at the source; all or nothing."""
    grouped = defaultdict(list)
    for source, destination, clc_top, count, idle_days in moves:
        grouped[(source, destination)].append((clc_top, count, idle_days))
    if not grouped:
        raise Refused(_("请至少选择一条建议。"), code="suggestions_required")
    transfers = []
    with transaction.atomic():
        for (source, destination), classes in sorted(
            grouped.items(), key=lambda group: (group[0][0].pk, group[0][1].pk)
        ):
            transfer = transfer_create(
                user=user,
                source=source,
                destination=destination,
                reason=Transfer.Reason.ROTATION,
                note=_("采纳调配建议"),
            )
            for clc_top, count, idle_days in classes:
                transfer_add_matching(
                    user=user,
                    transfer=transfer,
                    count=count,
                    clc_top=clc_top,
                    idle_days=idle_days,
                    on_display=False,
                )
            transfers.append(transfer)
    return transfers
