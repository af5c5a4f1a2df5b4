"""Sessions in the database, as Django's own store keeps them, read with one fixed SQL string.

Every signed-in request reads its session before anything else. Django's store builds that
one-row lookup with the ORM, which on the desk's checkout took several times longer than
PostgreSQL took to answer it (bench/checkout.py; docs/scale.md). Here the same read — the
session's data, only while it has not expired — is a fixed statement, prepared on PostgreSQL
(`sharedloan.prepared`), on the database the router names; writing, expiry and clean-up stay
Django's.

A session signed in through Django's own `ModelBackend`, which `accounts.backends.StaffBackend`
replaced, names that backend: it is read as naming its replacement, so nobody is signed out by
the change.
"""

from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.sessions.backends import db
from django.db import connections, router
from django.utils import timezone

from accounts.backends import PATH, REPLACED
from sharedloan.prepared import fixed_cursor


class SessionStore(db.SessionStore):
    def decode(self, session_data):
        data = super().decode(session_data)
        if data.get(BACKEND_SESSION_KEY) == REPLACED:
            data[BACKEND_SESSION_KEY] = PATH
        return data

    def _get_session_from_db(self):
        model = self.model
        connection = connections[router.db_for_read(model)]
        with fixed_cursor(connection) as cursor:
            cursor.execute(
                f"SELECT session_data FROM {model._meta.db_table}"
                " WHERE session_key = %s AND expire_date > %s",
                [self.session_key, connection.ops.adapt_datetimefield_value(timezone.now())],
            )
            row = cursor.fetchone()
        if row is None:
            # As Django's store: an unknown or expired key is dropped, a new one is made on save.
            self._session_key = None
            return None
        return model(session_key=self.session_key, session_data=row[0])
