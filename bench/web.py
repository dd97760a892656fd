"""Workbench latency under load: leads queue, entity profile and network view with concurrent users.

Builds a synthetic workspace of ``--rows`` transactions (10 million by default) with leads, scores and
hits, starts ``moneytrail serve`` on loopback, logs ``--users`` users in and has each make
``--requests`` requests, then reports p50/p95/max per endpoint. Run small while developing:

    python bench/web.py --rows 200000 --users 5 --requests 10
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import record  # noqa: E402
from moneytrail.engine import make_engine  # noqa: E402
from moneytrail.investigate.cases import open_store  # noqa: E402
from moneytrail.workspace import Workspace  # noqa: E402

PASSWORD = "bench-password-1"


def build_workspace(ws: Workspace, rows: int, seed: int) -> dict:
    """A synthetic world: rows transactions among rows/50 accounts, 1 lead per 20k transactions."""
    n_acc = max(1000, rows // 50)
    n_leads = max(20, rows // 20_000)
    ws.ensure()
    with make_engine("duckdb", ws) as eng:
        eng.query(f"SELECT setseed({(seed % 1000) / 1000})")
        eng.write_table(
            "parties",
            f"""
            SELECT 'P' || lpad(CAST(i AS VARCHAR), 8, '0') AS party_id, 'person' AS kind,
                   'Person ' || CAST(i AS VARCHAR) AS name, CAST(NULL AS VARCHAR) AS name_native,
                   CAST(NULL AS DATE) AS birth_date, 'CA' AS nationality, 'employee' AS occupation,
                   CAST(NULL AS DOUBLE) AS declared_income, CAST(NULL AS VARCHAR) AS address,
                   '604-' || lpad(CAST(i % 10000000 AS VARCHAR), 7, '0') AS phone, CAST(NULL AS VARCHAR) AS email,
                   CAST(NULL AS VARCHAR) AS document_number, 'CA' AS country, 'bench' AS source,
                   CAST(i AS VARCHAR) AS source_id
            FROM range({n_acc}) t(i)""",
        )
        eng.write_table(
            "accounts",
            f"""
            SELECT 'A' || lpad(CAST(i AS VARCHAR), 8, '0') AS account_id, 'P' || lpad(CAST(i AS VARCHAR), 8, '0') AS holder_party_id,
                   'Bank ' || CAST(i % 7 AS VARCHAR) AS institution,
                   CASE WHEN i % 97 = 0 THEN 'casino' WHEN i % 89 = 0 THEN 'msb' ELSE 'bank' END AS institution_type,
                   CASE WHEN i % 53 = 0 THEN 'HK' ELSE 'CA' END AS country, 'CAD' AS currency,
                   TIMESTAMP '2014-01-01' AS opened_at, false AS is_external, 'bench' AS source, CAST(i AS VARCHAR) AS source_id
            FROM range({n_acc}) t(i)""",
        )
        eng.write_table(
            "transactions",
            f"""
            SELECT 'T' || CAST(i AS VARCHAR) AS txn_id,
                   TIMESTAMP '2015-01-01' + to_seconds(CAST(floor(random() * 31536000) AS BIGINT)) AS ts,
                   'A' || lpad(CAST(CAST(floor(random() * {n_acc}) AS BIGINT) AS VARCHAR), 8, '0') AS src_account_id,
                   'A' || lpad(CAST(CAST(floor(random() * {n_acc}) AS BIGINT) AS VARCHAR), 8, '0') AS dst_account_id,
                   round(random() * 20000, 2) AS amount, 'CAD' AS currency, round(random() * 20000, 2) AS amount_cad,
                   CASE WHEN random() < 0.1 THEN 'cash' WHEN random() < 0.05 THEN 'wire' ELSE 'etransfer' END AS channel,
                   CAST(NULL AS BIGINT) AS cash_denomination, 'CA' AS country_src,
                   CASE WHEN random() < 0.02 THEN 'HK' ELSE 'CA' END AS country_dst, CAST(NULL AS VARCHAR) AS memo,
                   'bench' AS source, CAST(i AS VARCHAR) AS source_id
            FROM range({rows}) t(i)""",
        )
        eng.write_table(
            "account_scores",
            """
            SELECT account_id, random() AS score, random() > 0.99 AS alert, 'PL-01' AS typologies,
                   'Synthetic score' AS reason, '{"fan_in_degree": 0.2, "share_cash": 0.1}' AS contributions
            FROM accounts""",
        )
        eng.write_table(
            "party_scores",
            """
            SELECT party_id, random() AS score, random() > 0.99 AS alert, 'PL-01' AS typologies, 'Synthetic' AS reason
            FROM parties""",
        )
        # Each lead: 5 to 30 consecutive accounts.
        eng.write_table(
            "leads",
            f"""
            WITH l AS (SELECT i, CAST(floor(random() * ({n_acc} - 40)) AS BIGINT) AS first_acc,
                              5 + CAST(floor(random() * 25) AS BIGINT) AS n FROM range({n_leads}) t(i))
            SELECT 'L' || lpad(CAST(i + 1 AS VARCHAR), 5, '0') AS lead_id, i + 1 AS rank, 1.0 - i / {n_leads + 1} AS score,
                   random() * 1e7 AS total_value_cad, TIMESTAMP '2015-01-01' AS first_ts, TIMESTAMP '2015-12-31' AS last_ts,
                   CASE WHEN i % 3 = 0 THEN 'PL-01;CA-01' WHEN i % 3 = 1 THEN 'UB-01' ELSE 'RE-02' END AS typologies,
                   (SELECT string_agg('A' || lpad(CAST(first_acc + k AS VARCHAR), 8, '0'), ';') FROM range(n) r(k)) AS member_account_ids,
                   (SELECT string_agg('P' || lpad(CAST(first_acc + k AS VARCHAR), 8, '0'), ';') FROM range(n) r(k)) AS member_party_ids,
                   'A synthetic lead for the benchmark.' AS narrative
            FROM l ORDER BY i""",
        )
        eng.write_table(
            "detector_hits",
            f"""
            SELECT 'H' || CAST(i AS VARCHAR) AS hit_id, 'structuring_cash' AS detector_id, 'PL-01' AS indicator_ids,
                   'account' AS entity_kind, 'A' || lpad(CAST(i * 7 % {n_acc} AS VARCHAR), 8, '0') AS entity_id,
                   TIMESTAMP '2015-01-01' AS window_start, TIMESTAMP '2015-12-31' AS window_end, '{{"n": 12}}' AS metrics,
                   'T' || CAST(i AS VARCHAR) || ';T' || CAST(i + 1 AS VARCHAR) AS evidence_txn_ids, 0.8 AS severity
            FROM range({n_acc // 10}) t(i)""",
        )
        leads = eng.query("SELECT lead_id, member_party_ids FROM leads").to_pylist()
    return {
        "accounts": n_acc,
        "leads": [r["lead_id"] for r in leads],
        "parties": [p for r in leads for p in r["member_party_ids"].split(";")],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_load(base: str, users: int, requests: int, world: dict, seed: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()

    def user(k: int) -> None:
        rng = random.Random(seed + k)
        with httpx.Client(base_url=base, timeout=60) as c:
            r = c.post("/api/auth/login", json={"username": f"user{k}", "password": PASSWORD})
            r.raise_for_status()
            for _ in range(requests):
                kind = rng.choice(["leads", "entity", "network"])
                if kind == "leads":
                    params = {"offset": rng.choice([0, 0, 25, 50]), "sort": rng.choice(["rank", "value"])}
                    if rng.random() < 0.3:
                        params["typology"] = rng.choice(["PL-01", "UB-01", "RE-02"])
                    url = "/api/leads"
                elif kind == "entity":
                    url, params = f"/api/entities/{rng.choice(world['parties'])}", {}
                else:
                    url, params = f"/api/leads/{rng.choice(world['leads'])}/network", {}
                t0 = time.perf_counter()
                resp = c.get(url, params=params)
                dt = time.perf_counter() - t0
                with lock:
                    timings[kind].append(dt)
                    if resp.status_code != 200:
                        errors.append(f"{url} -> {resp.status_code}")

    threads = [threading.Thread(target=user, args=(k,)) for k in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        print(f"{len(errors)} failed requests, e.g. {errors[:3]}", file=sys.stderr)
    timings["errors"] = [float(len(errors))]
    return timings


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(q * (len(s) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000, help="transactions in the synthetic workspace")
    ap.add_argument("--users", type=int, default=20, help="concurrent users")
    ap.add_argument("--requests", type=int, default=30, help="requests per user")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, default=None, help="build the workspace here and keep it")
    args = ap.parse_args()

    tmp = None if args.keep else tempfile.TemporaryDirectory(prefix="moneytrail-bench-web-")
    ws = Workspace(args.keep or Path(tmp.name) / "ws")
    t0 = time.perf_counter()
    world = build_workspace(ws, args.rows, args.seed)
    build_s = time.perf_counter() - t0
    store = open_store(ws)
    for k in range(args.users):
        if store.user(f"user{k}") is None:
            store.add_user(f"user{k}", PASSWORD, "analyst")
    store.close()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    t0 = time.perf_counter()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "moneytrail"),
            "serve",
            "--workspace",
            str(ws.root),
            "--port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 900
        while True:
            try:
                if httpx.get(base + "/login", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the workbench did not start")
            time.sleep(0.5)
        start_s = time.perf_counter() - t0
        # one pass to warm the operating system's file cache, then the measured run
        run_load(base, min(args.users, 4), 3, world, args.seed + 1000)
        t0 = time.perf_counter()
        timings = run_load(base, args.users, args.requests, world, args.seed)
        wall = time.perf_counter() - t0
        load = os.getloadavg()[0]
    finally:
        server.terminate()
        server.wait(timeout=30)
        if tmp:
            tmp.cleanup()

    n = sum(len(v) for k, v in timings.items() if k != "errors")
    lines = [
        f"Workspace: {args.rows:,} transactions, {world['accounts']:,} accounts, {len(world['leads']):,} leads "
        f"(built in {build_s:.0f} s; server ready in {start_s:.0f} s, including the sorted legs cache).",
        f"Load: {args.users} concurrent users on loopback, {args.requests} requests each, {n:,} requests in {wall:.1f} s "
        f"({n / wall:.0f} req/s), {int(timings['errors'][0])} errors. Machine load average after the run: {load:.1f} "
        f"on {os.cpu_count()} cores (figures are only comparable on a quiet machine).",
        "",
        "| endpoint | requests | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|---:|",
    ]
    names = {
        "leads": "GET /api/leads (queue)",
        "entity": "GET /api/entities/{id} (profile)",
        "network": "GET /api/leads/{id}/network",
    }
    for kind in ("leads", "entity", "network"):
        v = timings.get(kind, [])
        if v:
            lines.append(
                f"| {names[kind]} | {len(v)} | {1000 * statistics.median(v):.0f} | {1000 * pct(v, 0.95):.0f} "
                f"| {1000 * max(v):.0f} |"
            )
    lines.append("")
    lines.append("Target: p95 under 300 ms for each endpoint at 10 million transactions and 20 users.")
    record("web", lines)


if __name__ == "__main__":
    main()
