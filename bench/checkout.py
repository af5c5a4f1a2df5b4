"""Benchmark: checkout and return at the desk through the whole stack — HTTP, session, CSRF,
the view, the service, PostgreSQL — under gunicorn, beside the raw baseline: the same writes as
one hand-written SQL transaction over psycopg.

    .venv/bin/python bench/checkout.py
    .venv/bin/python bench/checkout.py --quick     (6,000 volumes, 5 s a phase, for CI)

Starts gunicorn itself on a free loopback port against DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/sharedloan_checkout_bench (dropped and re-created), creates its
data, drives the load from a separate process (Python threads over http.client, each with its
own signed-in session), prints the figures, then stops everything.

The returns take back the loans the checkouts made: the loans of the paced checkouts are kept
for the paced returns, so that returns at full load cannot use them all up first. A phase that
measures no scan, or any error, fails the run.

Targets (2 cores): at least 100 checkouts/s sustained with p95 under 250 ms; p95 under 100 ms
at 20 scans/s.
"""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
# `python bench/NAME.py` puts bench/ first on the path, where a script would shadow an app or a
# library of its name: the project root takes its place, and the set-up is bench.benchdb.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p).resolve() != ROOT / "bench")]
DATABASE_URL = os.environ.setdefault(
    "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sharedloan_checkout_bench"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharedloan.settings")

QUICK = "--quick" in sys.argv
SATURATION_CLIENTS = 8
SATURATION_SECONDS = 5 if QUICK else 15
PACED_RATE = 20
PACED_SECONDS = 5 if QUICK else 10
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
VOLUMES = 6_000 if QUICK else 60_000
READERS = 500 if QUICK else 2_000
RAW_ROUNDS = 300 if QUICK else 2_000
WARM_UP = 40 if QUICK else 200
PASSWORD = "bench-password"


# The load driver: runs in its own process (`checkout.py --drive ...`).


class Desk:
    """One browser at the desk: a session cookie, a CSRF token, one keep-alive connection."""

    def __init__(self, port, username):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies = {}
        page = self.request("GET", "/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        self.request(
            "POST",
            "/accounts/login/",
            {"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token},
        )
        assert "sessionid" in self.cookies, "sign-in failed"
        self.csrf = self.cookies["csrftoken"]

    def request(self, method, path, form=None, headers=None):
        body = urlencode(form) if form is not None else None
        all_headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        all_headers.update(headers or {})
        self.conn.request(method, path, body=body, headers=all_headers)
        response = self.conn.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        if response.status >= 400:
            raise RuntimeError(f"{method} {path}: HTTP {response.status}")
        return data

    def scan(self, mode, card, code):
        started = time.perf_counter()
        data = self.request(
            "POST",
            "/desk/BENCH/central/scan/",
            {"mode": mode, "card": card, "code": code, "csrfmiddlewaretoken": self.csrf},
            {"Accept": "application/json", "X-CSRFToken": self.csrf},
        )
        elapsed = time.perf_counter() - started
        answer = json.loads(data)
        if answer["tone"] not in ("ok",):
            raise RuntimeError(f"{mode} {code}: {answer['message']}")
        return elapsed


def drive(port, mode, jobs, clients, seconds, rate):
    """Closed loop with `clients` desks for `seconds`, or open loop at `rate` scans/s."""
    desks = [Desk(port, "bench-librarian") for _ in range(clients)]
    lock = threading.Lock()
    jobs = iter(jobs)
    latencies, errors = [], []
    deadline = time.perf_counter() + seconds

    def next_job():
        with lock:
            return next(jobs, None)

    def closed(desk):
        while time.perf_counter() < deadline:
            job = next_job()
            if job is None:
                return
            try:
                latencies.append(desk.scan(mode, *job))
            except Exception as error:  # noqa: BLE001 - reported in the summary
                errors.append(str(error))

    def paced(desk, offset):
        # Each desk scans every clients/rate seconds, staggered: rate scans/s in all.
        interval = clients / rate
        tick = time.perf_counter() + offset * interval / clients
        while tick < deadline:
            time.sleep(max(0.0, tick - time.perf_counter()))
            job = next_job()
            if job is None:
                return
            try:
                latencies.append(desk.scan(mode, *job))
            except Exception as error:  # noqa: BLE001
                errors.append(str(error))
            tick += interval

    started = time.perf_counter()
    threads = [
        threading.Thread(target=paced if rate else closed, args=(desk, n) if rate else (desk,))
        for n, desk in enumerate(desks)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    print(
        json.dumps(
            {"latencies": latencies, "errors": errors[:5], "n_errors": len(errors), "wall": wall}
        )
    )


# The orchestrator.


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup():
    from bench.benchdb import fresh_database, make_county

    fresh_database()
    from accounts.models import User
    from circulation.models import LoanRule, Patron

    county = make_county(volumes=VOLUMES, sites=3)
    county.librarian.username = "bench-librarian"
    county.librarian.set_password(PASSWORD)
    county.librarian.save()
    for category in Patron.Category.values:
        LoanRule.objects.create(
            library=county.library, category=category, loan_days=30, max_items=10_000
        )
    Patron.objects.bulk_create(
        Patron(
            library=county.library,
            card_number=f"R{n:06}",
            name=f"读者{n}",
            category="adult",
            home_site=county.central,
        )
        for n in range(READERS)
    )
    assert User.objects.filter(username="bench-librarian").exists()
    return county


def start_gunicorn(port):
    env = dict(os.environ, DJANGO_DEBUG="false", DJANGO_LOG_LEVEL="WARNING")
    server = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/gunicorn"),
            "sharedloan.wsgi",
            "--workers",
            str(WORKERS),
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,
    )
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("gunicorn did not start")


def run_driver(port, mode, jobs, clients, seconds, rate=0):
    jobs_file = ROOT / "bench" / f".jobs-{os.getpid()}.json"
    jobs_file.write_text(json.dumps(jobs))
    try:
        output = subprocess.run(
            [
                sys.executable,
                __file__,
                "--drive",
                str(port),
                mode,
                str(jobs_file),
                str(clients),
                str(seconds),
                str(rate),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        jobs_file.unlink(missing_ok=True)
    result = json.loads(output.strip().splitlines()[-1])
    latencies = sorted(result["latencies"])
    n = len(latencies)
    return {
        "n": n,
        "rate": n / result["wall"],
        "p50": latencies[n // 2] * 1000 if n else 0,
        "p95": latencies[int(n * 0.95)] * 1000 if n else 0,
        "errors": result["n_errors"],
        "sample_errors": result["errors"],
        "wall": result["wall"],
    }


RAW_CHECKOUT = [
    (
        "SELECT id, is_suspended FROM circulation_patron WHERE library_id = %s AND card_number = %s"
        " FOR UPDATE",
        "patron",
    ),
    (
        "SELECT id, status, current_site_id, title_id FROM collections_app_item WHERE barcode = %s"
        " FOR UPDATE",
        "item",
    ),
    ("SELECT count(*) FROM circulation_loan WHERE patron_id = %s AND returned_at IS NULL", "count"),
    (
        "INSERT INTO circulation_loan (library_id, item_id, patron_id, site_id, checked_out_at,"
        " due_at, renewals) VALUES (%s, %s, %s, %s, now(), now() + interval '30 days', 0)",
        "loan",
    ),
    (
        "INSERT INTO collections_app_itemevent (library_id, item_id, kind, at, from_status,"
        " to_status, from_site_id, to_site_id, note) VALUES (%s, %s, 'checked_out', now(),"
        " 'available', 'on_loan', %s, %s, '')",
        "event",
    ),
    (
        "UPDATE collections_app_item SET status = 'on_loan', status_changed_at = now(),"
        " last_loan_at = now() WHERE id = %s",
        "update",
    ),
]


def raw_baseline(county, barcodes, cards, connections):
    """The same checkout writes, hand-written: lock reader and item, count, insert the loan and
    its history row, update the item — one transaction each, on `connections` connections."""
    import psycopg

    lib, site = county.library.pk, county.central.pk
    lock = threading.Lock()
    jobs = iter(zip(barcodes, cards, strict=True))
    done = []

    def work():
        with psycopg.connect(DATABASE_URL) as conn:
            while True:
                with lock:
                    job = next(jobs, None)
                if job is None:
                    return
                barcode, card = job
                with conn.transaction():
                    patron_id, _ = conn.execute(RAW_CHECKOUT[0][0], (lib, card)).fetchone()
                    item_id, *_ = conn.execute(RAW_CHECKOUT[1][0], (barcode,)).fetchone()
                    conn.execute(RAW_CHECKOUT[2][0], (patron_id,)).fetchone()
                    conn.execute(RAW_CHECKOUT[3][0], (lib, item_id, patron_id, site))
                    conn.execute(RAW_CHECKOUT[4][0], (lib, item_id, site, site))
                    conn.execute(RAW_CHECKOUT[5][0], (item_id,))
                done.append(1)

    started = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(done) / (time.perf_counter() - started)


def main():
    database = DATABASE_URL.rsplit("/", 1)[-1]
    print(f"setting up {VOLUMES:,} volumes and {READERS:,} readers in {database} …")
    county = setup()
    barcodes = [f"BENCH{n:08}" for n in range(VOLUMES)]
    cards = [f"R{n % READERS:06}" for n in range(VOLUMES)]
    port = free_port()
    server = start_gunicorn(port)
    try:
        # Warm up every worker (imports, first connection), then measure.
        warm = list(zip(cards[:WARM_UP], barcodes[:WARM_UP], strict=True))
        run_driver(port, "checkout", warm, 4, 30)
        cursor = WARM_UP
        results, lent = {}, {}
        for name, clients, seconds, rate in (
            ("checkout at full load", SATURATION_CLIENTS, SATURATION_SECONDS, 0),
            ("checkout at 20/s", 4, PACED_SECONDS, PACED_RATE),
        ):
            end = min(cursor + 20_000, VOLUMES - 2 * RAW_ROUNDS)
            jobs = list(zip(cards[cursor:end], barcodes[cursor:end], strict=True))
            results[name] = run_driver(port, "checkout", jobs, clients, seconds, rate)
            # The jobs are handed out in order: the first n + errors were scanned.
            done = cursor + results[name]["n"] + results[name]["errors"]
            lent[name] = barcodes[cursor:done]
            cursor = done
        # Returns at full load take back the loans of the checkouts at full load (they may
        # run out before the time is up: the rate is over the time they took). The paced
        # returns take back the paced checkouts' loans, about as many as they need, then any
        # left over: returns at full load used to take every loan, leaving none to pace.
        full_loans = lent["checkout at full load"]
        name = "return at full load"
        jobs = [("", code) for code in full_loans]
        results[name] = run_driver(port, "return", jobs, SATURATION_CLIENTS, SATURATION_SECONDS)
        left = full_loans[results[name]["n"] + results[name]["errors"] :]
        if not left:
            wall = results[name]["wall"]
            results[name]["note"] = f"every loan of the checkouts at full load back in {wall:.1f} s"
        jobs = [("", code) for code in lent["checkout at 20/s"] + left]
        results["return at 20/s"] = run_driver(port, "return", jobs, 4, PACED_SECONDS, PACED_RATE)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)

    raw_barcodes = barcodes[-RAW_ROUNDS * 2 :]
    raw_cards = cards[-RAW_ROUNDS * 2 :]
    raw_one = raw_baseline(county, raw_barcodes[:RAW_ROUNDS], raw_cards[:RAW_ROUNDS], 1)
    raw_four = raw_baseline(county, raw_barcodes[RAW_ROUNDS:], raw_cards[RAW_ROUNDS:], 4)

    print(f"\ngunicorn: {WORKERS} sync workers, PostgreSQL, 2 cores shared with the load driver")
    print(f"{'':24}{'scans':>7}{'per s':>9}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}")
    for name, r in results.items():
        print(
            f"{name:24}{r['n']:>7}{r['rate']:>9.1f}{r['p50']:>9.1f}{r['p95']:>9.1f}{r['errors']:>8}"
        )
        for error in r["sample_errors"]:
            print(f"    {error}")
        if r.get("note"):
            print(f"    ({r['note']})")
    full = results["checkout at full load"]
    broken = [name for name, r in results.items() if r["n"] == 0 or r["errors"]]
    if broken:
        raise SystemExit(f"no scans measured, or errors, in: {', '.join(broken)}")
    print(
        f"\nraw psycopg checkout transaction: {raw_one:.0f}/s on 1 connection, "
        f"{raw_four:.0f}/s on 4"
    )
    print(f"ratio raw (4 connections) / whole stack at full load: {raw_four / full['rate']:.1f}x")
    verdict = full["rate"] >= 100 and full["p95"] < 250 and results["checkout at 20/s"]["p95"] < 100
    print(
        "targets: ≥100 checkouts/s with p95 < 250 ms, p95 < 100 ms at 20/s: "
        + ("met" if verdict else "NOT met")
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--drive":
        _, _, port, mode, jobs_path, clients, seconds, rate = sys.argv
        drive(
            int(port),
            mode,
            [tuple(job) for job in json.loads(Path(jobs_path).read_text())],
            int(clients),
            float(seconds),
            float(rate),
        )
    else:
        main()
