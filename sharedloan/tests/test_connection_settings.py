"""How PostgreSQL connections are kept between requests, from the environment: persistent per
worker by default, psycopg's pool with DATABASE_POOL=true (docs/deployment.md)."""

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
URL = "postgres://sharedloan@db.internal:5432/sharedloan"


def databases(**env):
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))
    }
    environment.update(DATABASE_URL=URL, **env)
    code = (
        "import json; from sharedloan import settings as s; "
        "print(json.dumps({k: {'CONN_MAX_AGE': v['CONN_MAX_AGE'], "
        "'OPTIONS': v.get('OPTIONS', {})} for k, v in s.DATABASES.items()}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout)


def test_connections_are_persistent_by_default():
    default = databases()["default"]
    assert default["CONN_MAX_AGE"] == 600
    assert "pool" not in default["OPTIONS"]


def test_the_pool_is_chosen_from_the_environment_with_its_sizes():
    found = databases(
        DATABASE_POOL="true",
        DATABASE_POOL_MIN_SIZE="2",
        DATABASE_POOL_MAX_SIZE="8",
        DATABASE_REPLICA_URL="postgres://sharedloan@replica.internal:5432/sharedloan",
    )
    for alias in ("default", "replica"):
        # Django refuses a pool with persistent connections: the pool keeps them instead.
        assert found[alias]["CONN_MAX_AGE"] == 0
        assert found[alias]["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 8, "timeout": 10.0}


def test_without_the_pool_the_connection_age_comes_from_the_environment():
    found = databases(DATABASE_POOL="false", DATABASE_CONN_MAX_AGE="60")
    assert found["default"]["CONN_MAX_AGE"] == 60
    assert "pool" not in found["default"]["OPTIONS"]
