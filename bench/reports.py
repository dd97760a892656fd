"""Benchmark: rendering every report format for one large lead.

A synthetic workspace holds one lead whose detector hits cite ``--txns`` evidence transactions
between ``--subjects`` subject accounts and ``--counterparties`` counterparties, inside a
workspace of ``--background`` other transactions. Prints seconds per format and output sizes.

    python bench/reports.py                       # full size: 5,000 evidence transactions
    python bench/reports.py --txns 500 --no-pdf   # quick run while developing
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import peak_rss_gib, record  # noqa: E402
from moneytrail.investigate.reports import render_report  # noqa: E402
from moneytrail.schema import table  # noqa: E402
from moneytrail.workspace import Workspace  # noqa: E402

CHANNELS = ["cash", "wire", "eft", "etransfer", "casino_buy_in", "casino_cash_out"]


def _table(name: str, cols: dict) -> pa.Table:
    schema = table(name).arrow_schema()
    n = len(next(iter(cols.values())))
    return pa.table({f.name: cols.get(f.name, [None] * n) for f in schema}, schema=schema)


def build(ws: Workspace, txns: int, subjects: int, counterparties: int, background: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_parties = subjects + counterparties
    pids = [f"P{i:06d}" for i in range(n_parties)]
    ws.ensure()
    ws.write(
        "parties",
        _table(
            "parties",
            {
                "party_id": pids,
                "kind": ["person" if i % 4 else "company" for i in range(n_parties)],
                "name": [f"Person {i} Example" for i in range(n_parties)],
                "name_native": [f"张{i}" if i % 3 == 0 else None for i in range(n_parties)],
                "source": ["bank"] * n_parties,
                "source_id": [f"C{i}" for i in range(n_parties)],
            },
        ),
    )
    aids = [f"A{i:06d}" for i in range(n_parties)]
    ws.write(
        "accounts",
        _table(
            "accounts",
            {
                "account_id": aids,
                "holder_party_id": pids,
                "institution": ["Bank"] * n_parties,
                "institution_type": ["bank"] * n_parties,
                "currency": ["CAD"] * n_parties,
                "source": ["bank"] * n_parties,
                "source_id": [f"ACC{i}" for i in range(n_parties)],
            },
        ),
    )
    total = txns + background
    src = rng.integers(0, n_parties, total)
    dst = rng.integers(0, n_parties, total)
    # Evidence transactions touch a subject on one side.
    src[:txns] = rng.integers(0, subjects, txns)
    start = dt.datetime(2024, 1, 1)
    ts = [start + dt.timedelta(minutes=int(m)) for m in np.sort(rng.integers(0, 60 * 24 * 180, total))]
    amounts = np.round(rng.lognormal(8, 1.2, total), 2)
    tids = [f"T{i:08d}" for i in range(total)]
    ws.write(
        "transactions",
        _table(
            "transactions",
            {
                "txn_id": tids,
                "ts": ts,
                "src_account_id": [aids[i] for i in src],
                "dst_account_id": [aids[i] for i in dst],
                "amount": amounts.tolist(),
                "currency": ["CAD"] * total,
                "amount_cad": amounts.tolist(),
                "channel": [CHANNELS[i % len(CHANNELS)] for i in range(total)],
                "source": ["bank"] * total,
                "source_id": tids,
            },
        ),
    )
    per_hit = 250
    hits = [(f"H{k}", tids[k : k + per_hit]) for k in range(0, txns, per_hit)]
    ws.write(
        "detector_hits",
        _table(
            "detector_hits",
            {
                "hit_id": [h for h, _ in hits],
                "detector_id": ["fan_in"] * len(hits),
                "indicator_ids": ["G1;U2"] * len(hits),
                "entity_kind": ["account"] * len(hits),
                "entity_id": [aids[i % subjects] for i in range(len(hits))],
                "evidence_txn_ids": [";".join(t) for _, t in hits],
                "severity": [0.7] * len(hits),
            },
        ),
    )
    ws.write(
        "leads",
        _table(
            "leads",
            {
                "lead_id": ["L1"],
                "rank": [1],
                "score": [0.9],
                "typologies": ["G1;U2"],
                "member_account_ids": [";".join(aids[:subjects])],
                "member_party_ids": [";".join(pids[:subjects])],
            },
        ),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--txns", type=int, default=5000)
    ap.add_argument("--subjects", type=int, default=20)
    ap.add_argument("--counterparties", type=int, default=300)
    ap.add_argument("--background", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-pdf", action="store_true", help="skip the PDF (needs Chromium)")
    args = ap.parse_args()
    lines = [
        f"One lead with {args.txns:,} evidence transactions, {args.subjects} subjects and "
        f"{args.counterparties} counterparties, in a workspace of {args.txns + args.background:,} transactions.",
        "",
        "| format | seconds | bytes |",
        "|---|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as d:
        ws = Workspace(Path(d) / "ws")
        build(ws, args.txns, args.subjects, args.counterparties, args.background, args.seed)
        formats = ["str", "html", "graphml", "gexf", "ftm"] + ([] if args.no_pdf else ["pdf"])
        for fmt in formats:
            for redact in (False, True) if fmt == "html" else (False,):
                t0 = time.perf_counter()
                out = render_report(ws, "L1", fmt, redact=redact)
                secs = time.perf_counter() - t0
                label = fmt + (" --redact" if redact else "")
                lines.append(f"| {label} | {secs:.2f} | {len(out.content):,} |")
                print(lines[-1], flush=True)
    lines += ["", f"Peak memory {peak_rss_gib():.2f} GiB."]
    record("reports", lines)


if __name__ == "__main__":
    main()
