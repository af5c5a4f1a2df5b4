"""Django's `ModelBackend`, with the signed-in user read by one fixed SQL string.

Every signed-in request reads its user again, after its session: Django's backend builds that
one-row lookup with the ORM, which on the desk's checkout cost more Python time than the scan's
locks (bench/checkout.py, docs/scale.md). Here the same row is read by a fixed statement,
prepared on PostgreSQL (`sharedloan.prepared`), on the primary as before.

Nothing is kept between requests: the row is read afresh each time, so a password changed, an
account deactivated or a role or library changed elsewhere counts on the user's next request, as
it did with Django's backend (Django compares the session's hash of the password itself).
Signing in, permissions and everything else are Django's.
"""

import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connection

from sharedloan.prepared import fixed_cursor, model_columns, model_from_row

# The backend's path, as sessions record it; sessions signed in through Django's own backend
# before this one replaced it are read as this one's (sharedloan.sessions).
PATH = "accounts.backends.StaffBackend"
REPLACED = "django.contrib.auth.backends.ModelBackend"


class StaffBackend(ModelBackend):
    def get_user(self, user_id):
        user = user_by_id(user_id)
        return user if user is not None and self.user_can_authenticate(user) else None


def user_by_id(user_id):
    """The user with primary key `user_id` (as the session keeps it), every field loaded, or
    None."""
    model = get_user_model()
    columns = model_columns(model, connection.vendor)
    with fixed_cursor() as cursor:
        cursor.execute(_user_sql(model, connection.vendor), [model._meta.pk.to_python(user_id)])
        row = cursor.fetchone()
    return None if row is None else model_from_row(model, columns, row)


@functools.cache
def _user_sql(model, vendor: str) -> str:
    columns = ", ".join(field.column for field in model._meta.concrete_fields)
    return f"SELECT {columns} FROM {model._meta.db_table} WHERE {model._meta.pk.column} = %s"
