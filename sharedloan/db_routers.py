"""Report pages and exports read from a PostgreSQL streaming replica; everything else, and every
write, stays on the primary.

A province's report pages scan months of loans while the desks check books in and out: a hot
standby (`DATABASE_REPLICA_URL`) takes those scans off the primary. Without that variable the
`replica` alias does not exist and this module changes nothing.

What reads from the replica is kept narrow and explicit:

- only GET requests to the views named in REPLICA_VIEWS (the seven report pages with their CSV and
  XLSX exports, the idle-volume list and the provincial roll-up), and
- only the models of REPLICA_APPS (volumes, loans, readers, sites, summary tables). Accounts,
  sessions and jobs are read from the primary even then: a sign-in, a role change or a job the
  librarian has just started must count at once.

The period report's own pages (draft, submit, review, its download) and every background job
read the primary: a librarian acts on what those show, and the report refresh writes what it
reads.

Reading your own writes. A replica lags the primary by some milliseconds (seconds under a bulk
import). A page shown right after the librarian changed something must show that change, so,
like the "pinning" middleware of Mozilla's django-multidb-router, a request is pinned to the
primary when

- its method is not GET or HEAD, or
- it wrote anything (the router sees every ORM write), or
- its browser sent the pin cookie, which any such request sets for REPLICA_PIN_SECONDS.

The cookie lives in the browser, not on a server, so the pin holds whichever web server takes
the next request.

Raw SQL on `django.db.connection` runs on the primary: the report queries written in raw SQL
(reports/engine/readers.py) take their connection from `connection_for_reads(Model)` instead.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, router
from django.urls import Resolver404, resolve

logger = logging.getLogger(__name__)

REPLICA = "replica"
REPLICA_APPS = frozenset({"collections_app", "circulation", "reports"})
REPLICA_VIEWS = frozenset(
    {
        "reports:volume",
        "reports:readers",
        "reports:holdings",
        "reports:preferences",
        "reports:transit",
        "reports:compare",
        "reports:demand",
        "reports:idle-items",
        "reports:period-rollup",
    }
)
PIN_COOKIE = "sharedloan_primary"
SAFE_METHODS = frozenset({"GET", "HEAD"})


@dataclass
class ReadState:
    """What the request in hand may read from where; one per request."""

    replica: bool = False  # reads of REPLICA_APPS go to the replica
    wrote: bool = False  # something was written: from now on, the primary only


_state: ContextVar[ReadState | None] = ContextVar("sharedloan_read_state", default=None)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


class ReplicaRouter:
    """Reads of REPLICA_APPS go to the replica while the request allows it; writes never do."""

    def db_for_read(self, model, **hints):
        state = _state.get()
        if (
            state is not None
            and state.replica
            and not state.wrote
            and model._meta.app_label in REPLICA_APPS
        ):
            return REPLICA
        return DEFAULT_DB_ALIAS

    def db_for_write(self, model, **hints):
        state = _state.get()
        if state is not None:
            state.wrote = True
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # The replica is a copy of the primary: a row read from either may point at the other.
        both = {obj1._state.db or DEFAULT_DB_ALIAS, obj2._state.db or DEFAULT_DB_ALIAS}
        return both <= {DEFAULT_DB_ALIAS, REPLICA} or None

    def allow_migrate(self, db, app_label, **hints):
        # A hot standby is read-only; it receives the schema from the primary's stream.
        return db != REPLICA


def connection_for_reads(model):
    """The connection a raw-SQL read of `model` should use: the replica where the router sends
    the model's ORM reads, else the primary."""
    return connections[router.db_for_read(model)]


def reading(state: ReadState, chunks):
    """The chunks of a streamed export, each produced under the request's read state: a
    streaming response runs its queries after the middleware has returned."""
    chunks = iter(chunks)
    while True:
        token = _state.set(state)
        try:
            chunk = next(chunks)
        except StopIteration:
            return
        finally:
            _state.reset(token)
        yield chunk


def _replica_reachable() -> bool:
    """A replica that is down must not take the report pages with it: they read the primary."""
    try:
        connections[REPLICA].ensure_connection()
    except DatabaseError as error:
        logger.warning("read replica unreachable, reports read the primary: %s", error)
        connections[REPLICA].close()
        return False
    return True


def _view_name(request) -> str:
    try:
        return resolve(request.path_info).view_name
    except Resolver404:
        return ""


class ReplicaReadsMiddleware:
    """Decides, before anything reads, whether this request's report reads may go to the
    replica, and pins the browser to the primary for a while after any write."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_configured():
            return self.get_response(request)
        safe = request.method in SAFE_METHODS
        state = ReadState()
        state.replica = (
            safe
            and PIN_COOKIE not in request.COOKIES
            and _view_name(request) in REPLICA_VIEWS
            and _replica_reachable()
        )
        token = _state.set(state)
        try:
            response = self.get_response(request)
        finally:
            _state.reset(token)
        if response.streaming:
            response.streaming_content = reading(state, response.streaming_content)
        if state.wrote or not safe:
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.REPLICA_PIN_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
