"""Suggested moves (调配建议): idle volumes to the sites whose readers want their classes.

From the checkouts of the last months, each (site, CLC class) gets a loan rate: checkouts per
volume held there. A volume idle at one site is worth moving to a site where its class is read
more, as long as that site still lacks volumes of the class (its demand gap) and has shelf room.
Choosing how many volumes of which class go from where to where, under all the supplies, gaps and
capacities at once, is a linear programme (a transportation problem with shelf-room coupling);
HiGHS, through scipy's linprog, solves it exactly in well under a second for a county. A greedy
plan, which fills the best-looking destination first, is kept for comparison.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.db.models import Count, Q
from django.utils import timezone
from scipy.optimize import linprog
from scipy.sparse import coo_matrix

from collections_app.models import Item, ItemEvent, Site, TransferLine

# Loans per volume over the window that a well-stocked class reaches; below it a site lacks
# volumes of that class. One loan per volume per half year is a lively shelf for a county.
TARGET_TURNOVER = 1.0
MOVE_COST = 0.05  # expected loans a move must win at least: packing and carrying are not free
LOAN_DAYS = 30  # one volume cannot be lent more often than the window holds loan periods


@dataclass
class Suggestion:
    source: Site
    destination: Site
    clc_top: str
    count: int
    source_rate: float
    destination_rate: float
    idle_days: int

    @property
    def gain(self) -> float:
        return self.count * (self.destination_rate - self.source_rate)


@dataclass
class Plan:
    suggestions: list[Suggestion]
    gain: float
    greedy_gain: float
    volumes: int


@dataclass
class Inputs:
    sites: dict[int, Site]
    idle: dict[tuple[int, str], int]
    held: dict[tuple[int, str], int]
    demand: dict[tuple[int, str], int]
    headroom: dict[int, float]
    window_days: int


def gather(library, *, window_days: int = 180, idle_days: int = 90, now=None) -> Inputs:
    """Set-based counts per (site, class): volumes held, volumes idle, checkouts."""
    now = now or timezone.now()
    sites = {site.pk: site for site in Site.objects.filter(library=library, is_active=True)}
    items = Item.objects.filter(library=library, current_site__in=sites)
    held = _by_site_class(items.filter(status__in=[Item.Status.AVAILABLE, Item.Status.ON_LOAN]))
    idle = _by_site_class(
        items.filter(status=Item.Status.AVAILABLE, display__isnull=True, box__isnull=True)
        .filter(rotation__isnull=True)
        .filter(Q(last_loan_at__isnull=True) | Q(last_loan_at__lt=now - timedelta(days=idle_days)))
        .exclude(pk__in=TransferLine.objects.filter(is_open=True).values("item"))
    )
    checkouts = (
        ItemEvent.objects.filter(
            library=library,
            kind=ItemEvent.Kind.CHECKED_OUT,
            at__gte=now - timedelta(days=window_days),
            from_site__in=sites,
        )
        .values("from_site", "item__title__clc_top")
        .annotate(n=Count("id"))
        .order_by()
    )
    demand = {(row["from_site"], row["item__title__clc_top"]): row["n"] for row in checkouts}
    totals: dict[int, int] = defaultdict(int)
    for (site_id, _clc), n in held.items():
        totals[site_id] += n
    headroom = {
        pk: (max(0, site.capacity - totals[pk]) if site.capacity else math.inf)
        for pk, site in sites.items()
    }
    return Inputs(sites, idle, held, demand, headroom, window_days)


def _by_site_class(items) -> dict[tuple[int, str], int]:
    rows = items.values("current_site", "title__clc_top").annotate(n=Count("id")).order_by()
    return {(row["current_site"], row["title__clc_top"]): row["n"] for row in rows}


def _rates(inputs: Inputs) -> dict[tuple[int, str], float]:
    """Expected loans of one more volume of a class at a site over the window: the loans per
    volume seen there, but never more than one volume can physically go out."""
    ceiling = inputs.window_days / LOAN_DAYS
    keys = set(inputs.held) | set(inputs.demand)
    return {
        key: min(ceiling, inputs.demand.get(key, 0) / max(inputs.held.get(key, 0), 1))
        for key in keys
    }


def _gaps(inputs: Inputs) -> dict[tuple[int, str], int]:
    gaps = {}
    for key, loans in inputs.demand.items():
        wanted = math.ceil(loans / TARGET_TURNOVER) - inputs.held.get(key, 0)
        if wanted > 0:
            gaps[key] = wanted
    return gaps


def _arcs(inputs: Inputs, rates, gaps):
    """Every (source, destination, class) where a move wins loans."""
    wanting: dict[str, list[int]] = defaultdict(list)
    for site_id, clc in gaps:
        wanting[clc].append(site_id)
    arcs = []
    for (source, clc), supply in inputs.idle.items():
        if supply <= 0:
            continue
        for destination in wanting.get(clc, ()):
            if destination == source:
                continue
            gain = rates.get((destination, clc), 0.0) - rates.get((source, clc), 0.0) - MOVE_COST
            if gain > 0:
                arcs.append((source, destination, clc, gain))
    return arcs


def plan_moves(inputs: Inputs, *, idle_days: int = 90) -> Plan:
    rates = _rates(inputs)
    gaps = _gaps(inputs)
    arcs = _arcs(inputs, rates, gaps)
    greedy = _greedy(inputs, rates, gaps, arcs)
    if not arcs:
        return Plan([], 0.0, greedy, 0)
    flows = _solve(inputs, gaps, arcs)
    suggestions = []
    grouped: dict[tuple[int, int, str], int] = defaultdict(int)
    for (source, destination, clc, _gain), flow in zip(arcs, flows, strict=True):
        count = int(math.floor(flow + 1e-6))
        if count > 0:
            grouped[(source, destination, clc)] += count
    for (source, destination, clc), count in grouped.items():
        suggestions.append(
            Suggestion(
                source=inputs.sites[source],
                destination=inputs.sites[destination],
                clc_top=clc,
                count=count,
                source_rate=rates.get((source, clc), 0.0),
                destination_rate=rates.get((destination, clc), 0.0),
                idle_days=idle_days,
            )
        )
    suggestions.sort(key=lambda s: (-s.gain, s.source.pk, s.destination.pk, s.clc_top))
    gain = sum(suggestion.gain for suggestion in suggestions)
    return Plan(suggestions, gain, greedy, sum(s.count for s in suggestions))


def _solve(inputs: Inputs, gaps, arcs) -> np.ndarray:
    """max Σ gain·x  s.t. supply per (source, class), gap per (destination, class), and net
    shelf room per destination; x ≥ 0."""
    n = len(arcs)
    rows, cols, values, bounds = [], [], [], []
    row_of: dict[tuple, int] = {}

    def constraint(key, bound):
        if key not in row_of:
            row_of[key] = len(bounds)
            bounds.append(bound)
        return row_of[key]

    for j, (source, destination, clc, _gain) in enumerate(arcs):
        for row, value in (
            (constraint(("supply", source, clc), inputs.idle[(source, clc)]), 1.0),
            (constraint(("gap", destination, clc), gaps[(destination, clc)]), 1.0),
        ):
            rows.append(row)
            cols.append(j)
            values.append(value)
        if math.isfinite(inputs.headroom[destination]):
            rows.append(constraint(("room", destination), inputs.headroom[destination]))
            cols.append(j)
            values.append(1.0)
        if math.isfinite(inputs.headroom[source]):
            # Volumes leaving a full site make room there for the ones it receives.
            rows.append(constraint(("room", source), inputs.headroom[source]))
            cols.append(j)
            values.append(-1.0)
    matrix = coo_matrix((values, (rows, cols)), shape=(len(bounds), n)).tocsr()
    cost = -np.array([arc[3] for arc in arcs])
    result = linprog(cost, A_ub=matrix, b_ub=np.array(bounds), bounds=(0, None), method="highs")
    if not result.success:  # pragma: no cover - the programme is always feasible (x = 0)
        raise RuntimeError(result.message)
    return result.x


def _greedy(inputs: Inputs, rates, gaps, arcs) -> float:
    """Fill the highest-gain arcs first, one after another: what a librarian would do by eye."""
    supply = dict(inputs.idle)
    gap = dict(gaps)
    room = dict(inputs.headroom)
    total = 0.0
    for source, destination, clc, gain in sorted(arcs, key=lambda arc: -arc[3]):
        count = min(supply[(source, clc)], gap[(destination, clc)], room[destination])
        if count <= 0:
            continue
        count = int(count)
        supply[(source, clc)] -= count
        gap[(destination, clc)] -= count
        room[destination] -= count
        room[source] += count
        total += count * (gain + MOVE_COST)
    return total
