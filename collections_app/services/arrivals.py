"""Arrivals of rotating volumes: the transfer receipt tells the rotation plans."""

from collections_app.models import Item, RotationMember, RotationStop


def rotation_arrive(*, items: list[Item], site, now) -> int:
    """Members whose items were just received at `site` reach the stop there."""
    ids = [item.pk for item in items]
    members = RotationMember.objects.filter(is_finished=False).filter(
        item__in=ids
    ) | RotationMember.objects.filter(is_finished=False, box__items__in=ids)
    moved = 0
    for member in members.distinct().select_related("stop"):
        if member.stop.site_id == site.pk:
            continue
        # Plans saved through `rotation_plan_save` pass each site once; one saved before that
        # rule may pass a site twice: prefer the first such stop after the current one.
        candidates = list(RotationStop.objects.filter(plan=member.plan_id, site=site))
        if not candidates:
            continue
        later = [c for c in candidates if c.position > member.stop.position]
        stop = min(later or candidates, key=lambda candidate: candidate.position)
        member.stop = stop
        member.arrived_at = now
        member.extended = 0
        member.save(update_fields=["stop", "arrived_at", "extended"])
        moved += 1
    return moved
