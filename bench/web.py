"""Workbench latency under load: leads queue, entity profile and network view with concurrent users.

Builds a synthetic scored workspace of ``--rows`` transactions (10 million by default; every canonical
column, hub accounts and large leads, see ``build_workspace``) or takes one with ``--workspace``,
starts ``moneytrail serve`` on loopback, logs ``--users`` users in and has each make ``--requests``
requests, then reports p50/p95/max per endpoint with the CPU time the server used. Two measured runs:
users who pause between requests (``--think`` seconds on average, uniformly 0.5x to 1.5x; an analyst
reading a page pauses far longer) and the same users with no pause at all (saturation).
Run small while developing:

    python bench/web.py --rows 200000 --users 5 --requests 10
    python bench/web.py --workspace demo-world/workspace
"""

from __future__ import annotations

import argparse
import os
import random
import resource
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
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import record  # noqa: E402
from moneytrail import schema  # noqa: E402
from moneytrail.engine import make_engine  # noqa: E402
from moneytrail.investigate.cases import open_store  # noqa: E402
from moneytrail.workspace import Workspace  # noqa: E402

PASSWORD = "bench-password-1"


def _canonical(eng, name: str, sql: str) -> None:
    """Write ``sql`` as table ``name`` with exactly the canonical columns (missing ones empty)."""
    cols = schema.table(name).columns
    rel = eng.con.sql(sql)
    have = set(rel.columns)
    select = ", ".join(
        f'CAST("{c.name}" AS {c.sql_type}) AS "{c.name}"'
        if c.name in have
        else f'CAST(NULL AS {c.sql_type}) AS "{c.name}"'
        for c in cols
    )
    eng.write_table(name, f"SELECT {select} FROM ({sql}) AS src", label=f"the synthetic {name}")


def _acc(expr: str) -> str:
    return f"'A' || lpad(CAST({expr} AS VARCHAR), 8, '0')"


def _party(expr: str) -> str:
    return f"'P' || lpad(CAST({expr} AS VARCHAR), 8, '0')"


def build_workspace(ws: Workspace, rows: int, seed: int) -> dict:
    """A synthetic scored workspace shaped like the pipeline's output (every canonical column).

    ``rows`` transactions among rows/50 accounts. Money is skewed the way real data is: a few hub
    accounts (casinos, money services businesses) take part in a quarter of all
    transactions. One lead per 20,000 transactions, mostly 5 to 30 accounts; one lead in twenty is
    large (hundreds of accounts, some of them hubs), so its network has thousands of edges.
    """
    n_acc = max(1000, rows // 50)
    n_hubs = max(10, n_acc // 20_000)
    n_leads = max(20, rows // 20_000)
    n_hits = max(100, rows // 100)
    ws.ensure()
    with make_engine("duckdb", ws) as eng:
        eng.query(f"SELECT setseed({(seed % 1000) / 1000})")
        # Accounts 0..n_hubs-1 are hubs; every account i is held by party i.
        _canonical(
            eng,
            "parties",
            f"""
            SELECT {_party("i")} AS party_id, CASE WHEN i < {n_hubs} OR i % 11 = 0 THEN 'company' ELSE 'person' END AS kind,
                   CASE WHEN i < {n_hubs} THEN 'Hub Company ' ELSE 'Chan Person ' END || CAST(i AS VARCHAR) AS name,
                   CASE WHEN i % 3 = 0 THEN '陈' || CAST(i % 1000 AS VARCHAR) END AS name_native,
                   DATE '1960-01-01' + CAST(i % 15000 AS INTEGER) AS birth_date, 'CA' AS nationality,
                   'employee' AS occupation, 50000.0 + i % 100000 AS declared_income,
                   CAST(i AS VARCHAR) || ' Main St, Vancouver' AS address,
                   '604-' || lpad(CAST(i % 10000000 AS VARCHAR), 7, '0') AS phone, 'CA' AS country,
                   'bench' AS source, CAST(i AS VARCHAR) AS source_id
            FROM range({n_acc}) t(i)""",
        )
        _canonical(
            eng,
            "accounts",
            f"""
            SELECT {_acc("i")} AS account_id, {_party("i")} AS holder_party_id,
                   'Institution ' || CAST(i % 7 AS VARCHAR) AS institution,
                   CASE WHEN i < {n_hubs} THEN (CASE i % 3 WHEN 0 THEN 'casino' WHEN 1 THEN 'msb' ELSE 'bank' END)
                        WHEN i % 97 = 0 THEN 'casino' WHEN i % 89 = 0 THEN 'msb' WHEN i % 83 = 0 THEN 'lawyer_trust'
                        ELSE 'bank' END AS institution_type,
                   CASE WHEN i % 53 = 0 THEN 'HK' ELSE 'CA' END AS country, 'CAD' AS currency,
                   TIMESTAMP '2014-01-01' AS opened_at, false AS is_external, 'bench' AS source,
                   CAST(i AS VARCHAR) AS source_id
            FROM range({n_acc}) t(i)""",
        )
        # One side of a quarter of the transactions is a hub; transactions are written in time order,
        # as ingest writes them.
        pick = f"CAST(floor(random() * {n_acc}) AS BIGINT)"
        hub = f"CAST(floor(random() * {n_hubs}) AS BIGINT)"
        _canonical(
            eng,
            "transactions",
            f"""
            WITH t AS (
                SELECT i, TIMESTAMP '2015-01-01' + to_seconds(CAST(i * {31_536_000 / rows} AS BIGINT)) AS ts,
                       random() AS r, {pick} AS a, {pick} AS b, {hub} AS h, random() AS amt, random() AS c
                FROM range({rows}) t(i)
            )
            SELECT 'T' || lpad(CAST(i AS VARCHAR), 10, '0') AS txn_id, ts,
                   {_acc("CASE WHEN r < 0.125 THEN h ELSE a END")} AS src_account_id,
                   {_acc("CASE WHEN r >= 0.125 AND r < 0.25 THEN h ELSE b END")} AS dst_account_id,
                   round(amt * 20000, 2) AS amount, 'CAD' AS currency, round(amt * 20000, 2) AS amount_cad,
                   CASE WHEN c < 0.1 THEN 'cash' WHEN c < 0.15 THEN 'wire' WHEN c < 0.2 THEN 'casino_buy_in'
                        WHEN c < 0.25 THEN 'bank_draft' ELSE 'etransfer' END AS channel,
                   CASE WHEN c < 0.1 THEN 20 END AS cash_denomination, 'CA' AS country_src,
                   CASE WHEN c > 0.98 THEN 'HK' ELSE 'CA' END AS country_dst,
                   'bench' AS source, CAST(i AS VARCHAR) AS source_id
            FROM t ORDER BY i""",
        )
        _canonical(
            eng,
            "account_scores",
            """
            SELECT account_id, random() AS score, random() > 0.99 AS alert, 'PL-01' AS typologies,
                   'Synthetic score' AS reason,
                   '[{"feature": "fan_in_degree", "value": 0.2}, {"feature": "share_cash", "value": 0.1}]' AS contributions
            FROM accounts""",
        )
        _canonical(
            eng,
            "transaction_scores",
            """
            SELECT txn_id, random() AS score, false AS alert, 'Synthetic transaction score' AS reason
            FROM transactions""",
        )
        _canonical(
            eng,
            "party_scores",
            """
            SELECT party_id, random() AS score, random() > 0.99 AS alert, 'PL-01' AS typologies,
                   'Synthetic party score' AS reason
            FROM parties""",
        )
        # Each lead: consecutive accounts, 5 to 30 of them; every twentieth lead has 200 to 1,000
        # accounts and three hubs.
        _canonical(
            eng,
            "leads",
            f"""
            WITH l AS (
                SELECT i, {n_hubs} + CAST(floor(random() * ({n_acc} - {n_hubs} - 1100)) AS BIGINT) AS first_acc,
                       CASE WHEN i % 20 = 7 THEN 200 + CAST(floor(random() * 800) AS BIGINT)
                            ELSE 5 + CAST(floor(random() * 25) AS BIGINT) END AS n
                FROM range({n_leads}) t(i)
            ), m AS (
                SELECT i, {_acc("first_acc + k")} AS account_id, {_party("first_acc + k")} AS party_id, k
                FROM l, range(n) r(k)
                UNION ALL
                SELECT i, {_acc("(i + k) % " + str(n_hubs))}, {_party("(i + k) % " + str(n_hubs))}, -1 - k
                FROM l, range(3) r(k) WHERE i % 20 = 7
            ), agg AS (
                SELECT i, string_agg(account_id, ';' ORDER BY k) AS member_account_ids,
                       string_agg(party_id, ';' ORDER BY k) AS member_party_ids
                FROM m GROUP BY i
            )
            SELECT 'L' || lpad(CAST(l.i + 1 AS VARCHAR), 5, '0') AS lead_id, l.i + 1 AS rank,
                   1.0 - l.i / {n_leads + 1} AS score, random() * 1e7 AS total_value_cad,
                   TIMESTAMP '2015-01-01' AS first_ts, TIMESTAMP '2015-12-31' AS last_ts,
                   CASE WHEN l.i % 3 = 0 THEN 'PL-01;CA-01' WHEN l.i % 3 = 1 THEN 'UB-01' ELSE 'RE-02' END AS typologies,
                   member_account_ids, member_party_ids, 'A synthetic lead for the benchmark.' AS narrative
            FROM l JOIN agg USING (i) ORDER BY l.i""",
        )
        # Hits cite real transactions of their account (its first few legs), as detectors do.
        _canonical(
            eng,
            "detector_hits",
            f"""
            WITH h AS (SELECT i, {_acc(f"{n_hubs} + (i * 7919) % ({n_acc} - {n_hubs})")} AS account_id
                       FROM range({n_hits}) t(i)),
            ev AS (
                SELECT account_id, string_agg(txn_id, ';' ORDER BY txn_id) AS ids
                FROM (SELECT src_account_id AS account_id, txn_id,
                             row_number() OVER (PARTITION BY src_account_id ORDER BY txn_id) AS k
                      FROM transactions WHERE src_account_id IN (SELECT account_id FROM h))
                WHERE k <= 4 GROUP BY account_id
            )
            SELECT 'H' || lpad(CAST(i AS VARCHAR), 8, '0') AS hit_id, 'structuring_cash' AS detector_id,
                   'PL-01' AS indicator_ids, 'account' AS entity_kind, h.account_id AS entity_id,
                   TIMESTAMP '2015-01-01' AS window_start, TIMESTAMP '2015-12-31' AS window_end,
                   '{{"n": 12}}' AS metrics, ev.ids AS evidence_txn_ids, 0.5 + (i % 50) / 100 AS severity
            FROM h LEFT JOIN ev USING (account_id)""",
        )
        # Every tenth party has a second record of the same person.
        _canonical(
            eng,
            "resolved_entities",
            f"""
            SELECT {_party("i")} AS party_id, {_party("i - i % 2")} AS entity_id,
                   CASE WHEN i % 20 < 2 THEN 2 ELSE 1 END AS entity_size,
                   CASE WHEN i % 20 < 2 THEN 12.5 END AS match_weight
            FROM range({n_acc}) t(i)""",
        )
        _canonical(
            eng,
            "links",
            f"""
            SELECT {_party("i")} AS party_a, {_party("i + 1")} AS party_b, 'same_as' AS kind, 12.5 AS weight,
                   'resolve' AS source
            FROM range(0, {n_acc} - 1, 20) t(i)""",
        )
        _canonical(
            eng,
            "casino_sessions",
            f"""
            SELECT 'S' || CAST(i AS VARCHAR) AS session_id, {_party(f"(i * 31) % {n_acc}")} AS party_id,
                   'River Rock' AS casino, TIMESTAMP '2015-01-01' + to_seconds(i * 97 % 31536000) AS start_ts,
                   5000.0 + i % 50000 AS buy_in_cad, 'cash' AS buy_in_form, 1000.0 AS cash_out_cad,
                   'cash_large' AS cash_out_form, 0.8 AS share_small_bills, 'bench' AS source,
                   CAST(i AS VARCHAR) AS source_id
            FROM range({rows // 35}) t(i)""",
        )
        _canonical(
            eng,
            "properties",
            f"""
            SELECT 'R' || CAST(i AS VARCHAR) AS property_id, CAST(i AS VARCHAR) || ' Marine Dr' AS address,
                   'detached' AS kind, 1.4e6 AS assessed_value, 'bench' AS source, CAST(i AS VARCHAR) AS source_id
            FROM range({max(100, rows // 2000)}) t(i)""",
        )
        _canonical(
            eng,
            "property_transfers",
            f"""
            SELECT 'X' || CAST(i AS VARCHAR) AS transfer_id, 'R' || CAST(i AS VARCHAR) AS property_id,
                   TIMESTAMP '2015-03-01' + to_seconds(i * 3571 % 25000000) AS ts,
                   {_party(f"(i * 13) % {n_acc}")} AS buyer_party_id, {_party(f"(i * 17 + 5) % {n_acc}")} AS seller_party_id,
                   1.5e6 AS price, 1.0e6 AS mortgage_amount, 'private' AS lender_kind, 2.0e5 AS cash_amount,
                   false AS via_trust_account, 'bench' AS source, CAST(i AS VARCHAR) AS source_id
            FROM range({max(100, rows // 2000)}) t(i)""",
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


def run_load(
    base: str, users: int, requests: int, world: dict, seed: int, think: float = 0.0
) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    lock = threading.Lock()

    def user(k: int) -> None:
        rng = random.Random(seed + k)
        with httpx.Client(base_url=base, timeout=60) as c:
            r = c.post("/api/auth/login", json={"username": f"user{k}", "password": PASSWORD})
            r.raise_for_status()
            for _ in range(requests):
                if think:
                    time.sleep(think * rng.uniform(0.5, 1.5))
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


def world_of(ws: Workspace) -> dict:
    """The leads and their member parties of an existing workspace (what the load generator asks for)."""
    import pyarrow.parquet as pq

    leads = pq.read_table(ws.path("leads"), columns=["lead_id", "member_party_ids"]).to_pylist()
    return {
        "accounts": pq.ParquetFile(ws.path("accounts")).metadata.num_rows,
        "leads": [r["lead_id"] for r in leads],
        "parties": [p for r in leads for p in (r["member_party_ids"] or "").split(";") if p],
    }


def wait_for_index(ws: Workspace, server: subprocess.Popen, timeout: float) -> float | None:
    """Seconds until the server's legs index folder exists (None when it never appeared)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout and server.poll() is None:
        if any((ws.root / ".cache").glob("workbench_legs-*")):
            return time.perf_counter() - t0
        time.sleep(0.5)
    return None


def wait_until_idle(proc: psutil.Process, timeout: float) -> None:
    """Return once the server has used (almost) no CPU for five seconds: its warm-up is done."""
    t0 = time.perf_counter()
    last, quiet = sum(proc.cpu_times()[:2]), 0
    while quiet < 5 and time.perf_counter() - t0 < timeout:
        time.sleep(1)
        now = sum(proc.cpu_times()[:2])
        quiet = quiet + 1 if now - last < 0.05 else 0
        last = now


def cpu_per_request(base: str, proc: psutil.Process, world: dict, seed: int, n: int) -> dict[str, float]:
    """Server CPU milliseconds per request of each kind, one request at a time (mostly uncached ids)."""
    rng = random.Random(seed)
    urls = {
        "leads": lambda: "/api/leads",
        "entity": lambda: f"/api/entities/{rng.choice(world['parties'])}",
        "network": lambda: f"/api/leads/{rng.choice(world['leads'])}/network",
    }
    out = {}
    with httpx.Client(base_url=base, timeout=120) as c:
        c.post("/api/auth/login", json={"username": "user0", "password": PASSWORD}).raise_for_status()
        for kind, url in urls.items():
            cpu0 = sum(proc.cpu_times()[:2])
            for _ in range(n):
                c.get(url())
            out[kind] = 1000 * (sum(proc.cpu_times()[:2]) - cpu0) / n
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000, help="transactions in the synthetic workspace")
    ap.add_argument("--users", type=int, default=20, help="concurrent users")
    ap.add_argument("--requests", type=int, default=30, help="requests per user")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--think", type=float, default=1.0, help="mean pause between a user's requests, seconds")
    ap.add_argument("--keep", type=Path, default=None, help="build the workspace here and keep it")
    ap.add_argument(
        "--workspace", type=Path, default=None, help="use this scored workspace instead of building one"
    )
    args = ap.parse_args()

    tmp = (
        None if (args.keep or args.workspace) else tempfile.TemporaryDirectory(prefix="moneytrail-bench-web-")
    )
    ws = Workspace(args.workspace or args.keep or Path(tmp.name) / "ws")
    t0 = time.perf_counter()
    if args.workspace:
        world, build_s = world_of(ws), None
    else:
        world = build_workspace(ws, args.rows, args.seed)
        build_s = time.perf_counter() - t0
    rows = pq_rows(ws)
    indexed = any((ws.root / ".cache").glob("workbench_legs-*"))
    store = open_store(ws)
    for k in range(args.users):
        if store.user(f"user{k}") is None:
            store.add_user(f"user{k}", PASSWORD, "analyst")
    store.close()

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    t0 = launched = time.perf_counter()
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
            time.sleep(0.2)
        start_s = time.perf_counter() - t0
        index_s = wait_for_index(ws, server, 1800)
        index_s = None if index_s is None else start_s + index_s
        proc = psutil.Process(server.pid)
        # The server builds its lookups, the name index and the networks of leads with hub accounts
        # in the background: measure after that.
        wait_until_idle(proc, 1800)
        warm_s = time.perf_counter() - launched
        # one pass to warm the operating system's file cache, then the measured run
        run_load(base, min(args.users, 4), 3, world, args.seed + 1000)
        runs = [
            # a fresh seed per run, so the second run does not just replay answers the first one cached
            measured_run(base, proc, args.users, args.requests, world, args.seed + 500 * i, think)
            for i, think in enumerate(dict.fromkeys([args.think, 0.0]))
        ]
        single = cpu_per_request(base, proc, world, args.seed + 2000, 30)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if tmp:
            tmp.cleanup()

    built = f"built in {build_s:.0f} s" if build_s is not None else f"taken from {args.workspace.name}"
    if indexed:
        index_note = "legs index already in the workspace's cache"
    elif index_s is not None:
        index_note = f"legs index built in the background, ready after {index_s:.0f} s"
    else:
        index_note = "legs index not built"
    lines = [
        f"Workspace: {rows:,} transactions, {world['accounts']:,} accounts, {len(world['leads']):,} leads "
        f"({built}). Server answering {start_s:.1f} s after launch ({index_note}); warm-up (lookups, name index, "
        f"networks of leads with hub accounts) done {warm_s:.0f} s after launch; the measured runs start after it.",
    ]
    for run in runs:
        lines += ["", *run_report(run, args.users, args.requests)]
    lines.append("")
    lines.append(
        "Server CPU per request, one request at a time afterwards (30 each, ids mostly not yet cached): "
        + ", ".join(f"{ENDPOINTS[k]} {v:.1f} ms" for k, v in single.items())
        + "."
    )
    lines.append("")
    lines.append("Target: p95 under 300 ms for each endpoint at 10 million transactions and 20 users.")
    record("web", lines)


ENDPOINTS = {
    "leads": "GET /api/leads (queue)",
    "entity": "GET /api/entities/{id} (profile)",
    "network": "GET /api/leads/{id}/network",
}


def measured_run(
    base: str, proc: psutil.Process, users: int, requests: int, world: dict, seed: int, think: float
) -> dict:
    """One load run with the server's and the load generator's CPU time and the machine's load."""
    server_cpu0 = sum(proc.cpu_times()[:2])
    own0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    timings = run_load(base, users, requests, world, seed, think)
    wall = time.perf_counter() - t0
    own1 = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "think": think,
        "timings": timings,
        "wall": wall,
        "server_cpu": sum(proc.cpu_times()[:2]) - server_cpu0,
        "client_cpu": (own1.ru_utime - own0.ru_utime) + (own1.ru_stime - own0.ru_stime),
        "load": os.getloadavg(),
    }


def run_report(run: dict, users: int, requests: int) -> list[str]:
    """The lines of RESULTS.md for one measured run: how it was loaded and the latency table."""
    timings, wall, load = run["timings"], run["wall"], run["load"]
    n = sum(len(v) for k, v in timings.items() if k != "errors")
    pause = (
        f"a pause of {run['think']:.1f} s on average between requests"
        if run["think"]
        else "no pause (saturation)"
    )
    lines = [
        f"Load: {users} concurrent users on loopback, {pause}, {requests} requests each: {n:,} requests "
        f"in {wall:.1f} s ({n / wall:.0f} req/s), {int(timings['errors'][0])} errors. CPU during the run: server "
        f"{run['server_cpu']:.1f} s ({1000 * run['server_cpu'] / max(n, 1):.1f} ms per request), load generator "
        f"{run['client_cpu']:.1f} s. Machine load average (1, 5, 15 min) after the run: {load[0]:.1f}, {load[1]:.1f}, "
        f"{load[2]:.1f} on {os.cpu_count()} cores.",
        "",
        "| endpoint | requests | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind, name in ENDPOINTS.items():
        v = timings.get(kind, [])
        if v:
            lines.append(
                f"| {name} | {len(v)} | {1000 * statistics.median(v):.0f} | {1000 * pct(v, 0.95):.0f} "
                f"| {1000 * max(v):.0f} |"
            )
    return lines


def pq_rows(ws: Workspace) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(ws.path("transactions")).metadata.num_rows


if __name__ == "__main__":
    main()
