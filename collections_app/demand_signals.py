"""Readers' demand beside the rotation suggestions: titles readers wait for at one site while a
copy stands idle at another. Collections may not import circulation or reports, where holds
and counted searches live; the reports app registers the function that finds them at start-up
(reports.apps), as circulation registers its receipt check with the transfers."""

from __future__ import annotations

from collections.abc import Callable

_sources: list[Callable] = []


def register_demand_source(source: Callable) -> Callable:
    """`source(library, *, idle_days)` returns moves with `title`, `destination`,
    `holds_waiting`, `queued_searches`, `item`, `source` and `last_loan_at`."""
    if source not in _sources:
        _sources.append(source)
    return source


def titles_in_demand(library, *, idle_days: int) -> list:
    moves = []
    for source in _sources:
        moves += source(library, idle_days=idle_days)
    return moves
