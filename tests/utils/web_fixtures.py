"""A small investigation workspace for the workbench tests, written with ``Workspace.write``.

Two laundering networks (a casino/underground-bank ring and a real-estate ring) inside a small
legitimate population, with detector hits, scores, leads and ``same_as`` links between spellings of
the same person (Chinese characters, pinyin, Cantonese).
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa

from moneytrail.schema import table
from moneytrail.workspace import Workspace

T0 = dt.datetime(2015, 1, 5, 9, 0)

RING = [
    # party_id, name, name_native, occupation, role
    ("P001", "Chen Guoqiang", "陈国强", "businessman", "underground_banker"),
    ("P002", "Chan Kwok Keung", None, "student", "vip_gambler"),
    ("P003", "Li Wei", "李伟", "homemaker", "courier"),
    ("P004", "Wong Siu Ming", "黄小明", "student", "nominee"),
    ("P005", "Zhang Min", "张敏", "consultant", "supplier"),
]
ESTATE = [
    ("P010", "Liu Yang", "刘洋", "student", "nominee"),
    ("P011", "Lau Yeung", None, "homemaker", "nominee"),
    ("P012", "Henry Ho", "何亨利", "lawyer", "professional"),
]


def _write(ws: Workspace, name: str, rows: list[dict], area: str = "tables") -> None:
    schema = table(name).arrow_schema()
    cols = {f.name: [r.get(f.name) for r in rows] for f in schema}
    ws.write(name, pa.Table.from_pydict(cols, schema=schema), area)


def make_web_workspace(
    ws: Workspace, *, seed: int = 7, legit_parties: int = 60, legit_txns: int = 600
) -> Workspace:
    """Fill ``ws`` with a deterministic small world and its results; returns ``ws``."""
    rng = np.random.default_rng(seed)
    ws.ensure()
    parties, accounts, txns = [], [], []

    def party(pid, name, native, occupation, kind="person", phone=None):
        parties.append(
            {
                "party_id": pid,
                "kind": kind,
                "name": name,
                "name_native": native,
                "occupation": occupation,
                "country": "CA",
                "nationality": "CN" if native else "CA",
                "phone": phone,
                "source": "bank",
                "source_id": f"C-{pid}",
            }
        )

    def account(aid, holder, itype, institution, country="CA"):
        accounts.append(
            {
                "account_id": aid,
                "holder_party_id": holder,
                "institution": institution,
                "institution_type": itype,
                "country": country,
                "currency": "CAD",
                "opened_at": T0 - dt.timedelta(days=400),
                "is_external": False,
                "source": "bank",
                "source_id": f"ACC-{aid}",
            }
        )

    def txn(src, dst, amount, day, channel, country_dst="CA", denom=None, memo=None):
        tid = f"T{len(txns) + 1:05d}"
        txns.append(
            {
                "txn_id": tid,
                "ts": T0 + dt.timedelta(days=int(day), hours=int(rng.integers(0, 10))),
                "src_account_id": src,
                "dst_account_id": dst,
                "amount": float(amount),
                "currency": "CAD",
                "amount_cad": float(amount),
                "channel": channel,
                "cash_denomination": denom,
                "country_src": "CA",
                "country_dst": country_dst,
                "memo": memo,
                "source": "bank",
                "source_id": f"TX-{tid}",
            }
        )
        return tid

    for i, (pid, name, native, occ, _role) in enumerate(RING + ESTATE):
        party(pid, name, native, occ, phone=f"604-555-{100 + i:04d}")
    party("P020", "River Rock Casino", None, None, kind="company")
    party("P021", "Silver Money Exchange", None, None, kind="company")
    party("P022", "Hong Kong Trading Ltd", "香港贸易有限公司", None, kind="company")
    for pid in ("P001", "P002", "P003", "P004", "P005", "P010", "P011", "P012"):
        account(f"A{pid[1:]}", pid, "bank", "Bank of Vancouver")
    account("A020", "P020", "casino", "River Rock Casino")
    account("A021", "P021", "msb", "Silver Money Exchange")
    account("A022", "P022", "bank", "HK Bank", country="HK")
    account("A012T", "P012", "lawyer_trust", "Ho & Co trust account")
    account("CASH", None, "other", "cash")

    evidence_ring, evidence_estate = [], []
    for d in range(0, 300, 6):
        evidence_ring.append(txn("CASH", "A003", 9_000 + int(rng.integers(0, 900)), d, "cash", denom=20))
        evidence_ring.append(txn("A003", "A001", 8_500 + int(rng.integers(0, 400)), d + 1, "etransfer"))
        evidence_ring.append(txn("A001", "A002", 20_000 + int(rng.integers(0, 5000)), d + 2, "etransfer"))
        evidence_ring.append(txn("A002", "A020", 20_000, d + 3, "casino_buy_in", denom=20))
        evidence_ring.append(txn("A020", "A004", 18_000, d + 4, "casino_cash_out"))
        evidence_ring.append(txn("A004", "A021", 15_000, d + 5, "wire"))
        evidence_ring.append(txn("A021", "A022", 14_000, d + 5, "wire", country_dst="HK"))
        evidence_ring.append(txn("A005", "A001", 5_000, d + 2, "cash", denom=20))
    for d in range(10, 300, 30):
        evidence_estate.append(txn("A010", "A012T", 60_000, d, "bank_draft"))
        evidence_estate.append(txn("A011", "A012T", 55_000, d + 1, "bank_draft"))
        evidence_estate.append(txn("A012T", "A011", 100_000, d + 5, "mortgage"))

    legit = [f"P{100 + i:03d}" for i in range(legit_parties)]
    for pid in legit:
        party(pid, f"Person {pid}", None, "employee", phone=f"778-555-{int(pid[1:]):04d}")
        account(f"A{pid[1:]}", pid, "bank", "Bank of Vancouver")
    for _ in range(legit_txns):
        a, b = rng.choice(len(legit), 2, replace=False)
        txn(
            f"A{legit[a][1:]}",
            f"A{legit[b][1:]}",
            float(rng.integers(20, 3000)),
            int(rng.integers(0, 360)),
            "etransfer",
        )
    _write(ws, "parties", parties)
    _write(ws, "accounts", accounts)
    _write(ws, "transactions", txns)
    _write(
        ws,
        "links",
        [
            {"party_a": "P001", "party_b": "P002", "kind": "same_as", "weight": 9.5, "source": "resolve"},
            {"party_a": "P010", "party_b": "P011", "kind": "same_as", "weight": 8.0, "source": "resolve"},
            {"party_a": "P003", "party_b": "P004", "kind": "shares_phone", "weight": 1.0, "source": "bank"},
        ],
    )
    _write(
        ws,
        "casino_sessions",
        [
            {
                "session_id": f"S{i:03d}",
                "party_id": "P002",
                "casino": "River Rock Casino",
                "start_ts": T0 + dt.timedelta(days=3 + 6 * i),
                "buy_in_cad": 20_000.0,
                "wagered_cad": 4_000.0,
                "cash_out_cad": 18_000.0,
                "cash_out_form": "cheque",
                "share_small_bills": 0.9,
                "delivered_by_party_id": "P003",
                "source": "casino",
                "source_id": f"GS-{i}",
            }
            for i in range(10)
        ],
    )
    _write(
        ws,
        "property_transfers",
        [
            {
                "transfer_id": "PT1",
                "property_id": "PR1",
                "ts": T0 + dt.timedelta(days=200),
                "buyer_party_id": "P010",
                "seller_party_id": "P100",
                "price": 2_400_000.0,
                "mortgage_amount": 1_000_000.0,
                "lender_party_id": "P012",
                "lender_kind": "private",
                "cash_amount": 1_400_000.0,
                "via_trust_account": True,
                "source": "land_title",
                "source_id": "LT-1",
            },
        ],
    )

    hits = [
        {
            "hit_id": "H1",
            "detector_id": "structuring_cash",
            "indicator_ids": "PL-01;PL-02",
            "entity_kind": "account",
            "entity_id": "A003",
            "window_start": T0,
            "window_end": T0 + dt.timedelta(days=300),
            "metrics": json.dumps({"deposits_under_10k": 50, "share_small_bills": 1.0}),
            "evidence_txn_ids": ";".join(evidence_ring[0:40:8]),
            "severity": 0.9,
        },
        {
            "hit_id": "H2",
            "detector_id": "casino_buy_in_small_bills",
            "indicator_ids": "CA-01",
            "entity_kind": "account",
            "entity_id": "A002",
            "window_start": T0,
            "window_end": T0 + dt.timedelta(days=300),
            "metrics": json.dumps({"buy_ins": 50, "share_20s": 0.9}),
            "evidence_txn_ids": ";".join(evidence_ring[3:80:8]),
            "severity": 0.85,
        },
        {
            "hit_id": "H3",
            "detector_id": "private_lender_cash",
            "indicator_ids": "RE-02",
            "entity_kind": "party",
            "entity_id": "P010",
            "window_start": T0,
            "window_end": T0 + dt.timedelta(days=300),
            "metrics": json.dumps({"cash_share": 0.58}),
            "evidence_txn_ids": ";".join(evidence_estate[:6]),
            "severity": 0.7,
        },
    ]
    _write(ws, "detector_hits", hits)
    scores = []
    for a in accounts:
        aid = a["account_id"]
        bad = aid in ("A001", "A002", "A003", "A004", "A005", "A021", "A010", "A011", "A012T")
        s = float(0.6 + 0.04 * len(aid)) if bad else float(rng.uniform(0, 0.3))
        scores.append(
            {
                "account_id": aid,
                "score": round(min(s, 0.99), 4),
                "alert": bad,
                "typologies": "PL-01;CA-01" if bad else None,
                "reason": "Cash in $20 bills under the reporting threshold, then casino buy-ins"
                if bad
                else "No detector fired",
                "contributions": json.dumps(
                    {
                        "share_small_bills": 0.31,
                        "fan_in_degree": 0.12,
                        "income_mismatch": 0.08,
                        "account_age_days": -0.03,
                    }
                )
                if bad
                else None,
            }
        )
    _write(ws, "account_scores", scores)
    _write(
        ws,
        "party_scores",
        [
            {
                "party_id": pid,
                "score": 0.9 - i * 0.05,
                "alert": True,
                "typologies": "PL-01;CA-01",
                "reason": "Member of a casino laundering network",
            }
            for i, (pid, *_r) in enumerate(RING + ESTATE)
        ],
    )
    ring_value = sum(t["amount_cad"] for t in txns if t["txn_id"] in set(evidence_ring))
    estate_value = sum(t["amount_cad"] for t in txns if t["txn_id"] in set(evidence_estate))
    _write(
        ws,
        "leads",
        [
            {
                "lead_id": "L0001",
                "rank": 1,
                "score": 0.93,
                "total_value_cad": ring_value,
                "first_ts": T0,
                "last_ts": T0 + dt.timedelta(days=305),
                "typologies": "PL-01;CA-01;UB-01",
                "member_account_ids": "A001;A002;A003;A004;A005;A020;A021",
                "member_party_ids": "P001;P002;P003;P004;P005",
                "narrative": "Cash in $20 bills deposited under the threshold, bought into a casino and wired to Hong Kong.",
            },
            {
                "lead_id": "L0002",
                "rank": 2,
                "score": 0.81,
                "total_value_cad": estate_value,
                "first_ts": T0 + dt.timedelta(days=10),
                "last_ts": T0 + dt.timedelta(days=295),
                "typologies": "RE-02",
                "member_account_ids": "A010;A011;A012T",
                "member_party_ids": "P010;P011;P012",
                "narrative": "Bank drafts through a lawyer's trust account financing a private mortgage.",
            },
        ],
    )
    return ws


# -- the app and its users ---------------------------------------------------------------------
PASSWORDS = {
    "ana": ("analyst", "analyst-password-1"),
    "sam": ("supervisor", "supervisor-password-1"),
    "ada": ("admin", "admin-password-12"),
}


def make_app(ws: Workspace, database_url: str | None = None, **options):
    """The workbench over ``ws`` with one user per role (see :data:`PASSWORDS`)."""
    from moneytrail.investigate.cases import Hasher
    from moneytrail.investigate.web import create_app

    options.setdefault("hasher", Hasher.fast())
    app = create_app(ws, database_url=database_url, **options)
    store = app.state.workbench.store
    for name, (role, password) in PASSWORDS.items():
        if store.user(name) is None:
            store.add_user(name, password, role, display_name=name.title())
    return app


def login(client, username: str) -> str:
    """Log ``client`` in as ``username``; returns the CSRF token."""
    r = client.post("/api/auth/login", json={"username": username, "password": PASSWORDS[username][1]})
    assert r.status_code == 200, r.text
    return r.json()["csrf_token"]
