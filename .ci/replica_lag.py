"""How long a committed write on the primary takes to be readable on its streaming replica.

    .venv/bin/python .ci/replica_lag.py PRIMARY_URL REPLICA_URL [--seconds N] [--label TEXT]

Writes a row with a sequence number into a probe table on the primary (its own database,
created by .ci/replica.sh), then polls the replica every millisecond until the row is there:
the time from COMMIT returning to the row being readable is one sample. Samples go on for N
seconds (or 50 samples when N is 0), and it prints the median, p95 and maximum beside
PostgreSQL's own figure of the same thing (pg_stat_replication.replay_lag on the primary).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import psycopg


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("primary")
    parser.add_argument("replica")
    parser.add_argument("--seconds", type=float, default=0)
    parser.add_argument("--label", default="idle")
    args = parser.parse_args()
    primary = psycopg.connect(args.primary, autocommit=True)
    replica = psycopg.connect(args.replica, autocommit=True)
    primary.execute("CREATE TABLE IF NOT EXISTS lag_probe (n bigint PRIMARY KEY, at timestamptz)")
    start = primary.execute("SELECT coalesce(max(n), 0) FROM lag_probe").fetchone()[0]
    # The probe table itself reaches the replica like any other write: the first run creates
    # it, and polling for a row before its table has been replayed would fail, not wait.
    created = time.monotonic()
    while replica.execute("SELECT to_regclass('lag_probe')").fetchone()[0] is None:
        if time.monotonic() - created > 30:
            print(f"replica lag ({args.label}): the probe table not on the replica after 30 s")
            return 1
        time.sleep(0.001)
    samples, replay_lags, n = [], [], start
    deadline = time.monotonic() + args.seconds
    while (args.seconds and time.monotonic() < deadline) or (
        not args.seconds and len(samples) < 50
    ):
        n += 1
        primary.execute("INSERT INTO lag_probe VALUES (%s, clock_timestamp())", [n])
        written = time.monotonic()
        while not replica.execute("SELECT 1 FROM lag_probe WHERE n = %s", [n]).fetchone():
            if time.monotonic() - written > 30:
                print(f"replica lag ({args.label}): row {n} not on the replica after 30 s")
                return 1
            time.sleep(0.001)
        samples.append((time.monotonic() - written) * 1000)
        lag = primary.execute(
            "SELECT extract(epoch FROM replay_lag) * 1000 FROM pg_stat_replication"
        ).fetchone()
        if lag and lag[0] is not None:
            replay_lags.append(float(lag[0]))
        time.sleep(0.05)
    line = (
        f"replica lag ({args.label}): {len(samples)} writes, commit → readable on the replica "
        f"median {statistics.median(samples):.1f} ms, p95 {percentile(samples, 0.95):.1f} ms, "
        f"max {max(samples):.1f} ms"
    )
    if replay_lags:
        line += (
            f"; PostgreSQL's replay_lag median {statistics.median(replay_lags):.1f} ms, "
            f"max {max(replay_lags):.1f} ms"
        )
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
