"""Precision and recall of the detectors against a workspace's ground truth.

How a hit counts against truth (also in docs/detectors.md):

- A hit *covers* a record when the record is the hit's entity, or one of its evidence
  transactions; a hit on an account also covers the account's transactions, and a hit on a party
  covers the party's accounts, their transactions and the party's sessions (a party's hit is about
  what the party did); a hit on a
  casino session covers the player's transactions within 12 hours of the session. An evidence
  transaction also covers its two accounts and their holders.
- **Recall per indicator**: the share of truth records carrying the indicator (transactions from
  ``transaction_labels``, and sessions, transfers, shipments, accounts, parties from
  ``entity_labels``) covered by a hit of a detector that declares the indicator.
- **Precision per detector**: the share of its hits whose entity (account, party, session,
  property, shipment, transaction) or any evidence transaction is labelled as laundering.
- Benchmark workspaces without indicator ids (AMLSim, Tide) are measured per alert typology
  (``fan_in``, ``cycle``, ...) at account level: an account is positive when it sent or received a
  laundering transaction, and covered when any hit covers it. Each typology reports the recall of
  every detector and of all detectors together.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from moneytrail.detect.catalog import load_catalog
from moneytrail.detect.runner import HITS_TABLE
from moneytrail.detect.sql import epoch
from moneytrail.engine import make_engine
from moneytrail.engine.base import Engine
from moneytrail.errors import WorkspaceError
from moneytrail.workspace import Workspace


def hit_cover_sql(engine: Engine) -> str:
    """(detector_id, hit_id, kind, id) rows: every record each hit covers."""
    parts = [
        "SELECT detector_id, hit_id, entity_kind AS kind, entity_id AS id FROM h",
        "SELECT h.detector_id, h.hit_id, 'transaction', e.txn_id FROM h JOIN ev e ON e.hit_id = h.hit_id",
        """SELECT h.detector_id, h.hit_id, 'account', t.src_account_id FROM ev e JOIN h ON h.hit_id = e.hit_id
           JOIN transactions t ON t.txn_id = e.txn_id""",
        """SELECT h.detector_id, h.hit_id, 'account', t.dst_account_id FROM ev e JOIN h ON h.hit_id = e.hit_id
           JOIN transactions t ON t.txn_id = e.txn_id""",
        """SELECT h.detector_id, h.hit_id, 'transaction', t.txn_id FROM h JOIN transactions t
           ON h.entity_kind = 'account' AND (t.src_account_id = h.entity_id OR t.dst_account_id = h.entity_id)""",
    ]
    if engine.has_table("accounts"):
        parts += [
            """SELECT h.detector_id, h.hit_id, 'account', a.account_id FROM h JOIN accounts a
               ON h.entity_kind = 'party' AND a.holder_party_id = h.entity_id""",
            """SELECT h.detector_id, h.hit_id, 'transaction', t.txn_id FROM h JOIN accounts a
               ON h.entity_kind = 'party' AND a.holder_party_id = h.entity_id
               JOIN transactions t ON t.src_account_id = a.account_id OR t.dst_account_id = a.account_id""",
            """SELECT h.detector_id, h.hit_id, 'party', a.holder_party_id FROM h JOIN accounts a
               ON h.entity_kind = 'account' AND a.account_id = h.entity_id WHERE a.holder_party_id IS NOT NULL""",
        ]
    if engine.has_table("casino_sessions"):
        parts += [
            """SELECT h.detector_id, h.hit_id, 'session', s.session_id FROM h JOIN casino_sessions s
               ON h.entity_kind = 'party' AND s.party_id = h.entity_id""",
            """SELECT h.detector_id, h.hit_id, 'party', s.party_id FROM h JOIN casino_sessions s
               ON h.entity_kind = 'session' AND s.session_id = h.entity_id""",
        ]
    if engine.has_table("casino_sessions") and engine.has_table("accounts"):
        # a session's own money movements: the player's transactions within 12 hours of the session
        parts += [
            f"""SELECT h.detector_id, h.hit_id, 'transaction', t.txn_id FROM h
               JOIN casino_sessions s ON h.entity_kind = 'session' AND s.session_id = h.entity_id
               JOIN accounts a ON a.holder_party_id = s.party_id
               JOIN transactions t ON (t.src_account_id = a.account_id OR t.dst_account_id = a.account_id)
               WHERE {epoch("t.ts")} BETWEEN {epoch("s.start_ts")} - 43200
                 AND {epoch("COALESCE(s.end_ts, s.start_ts)")} + 43200"""
        ]
    if engine.has_table("property_transfers"):
        parts += [
            """SELECT h.detector_id, h.hit_id, 'property_transfer', t.transfer_id FROM h JOIN property_transfers t
               ON (h.entity_kind = 'property' AND t.property_id = h.entity_id)
               OR (h.entity_kind = 'party' AND (t.buyer_party_id = h.entity_id OR t.lender_party_id = h.entity_id))""",
        ]
    if engine.has_table("shipments"):
        parts += [
            """SELECT h.detector_id, h.hit_id, 'party', s.consignee_party_id FROM h JOIN shipments s
               ON h.entity_kind = 'shipment' AND s.shipment_id = h.entity_id""",
        ]
    union = "\nUNION\n".join(parts)
    return f"""
    WITH h AS (SELECT hit_id, detector_id, entity_kind, entity_id, evidence_txn_ids FROM {HITS_TABLE}),
    ev AS (
        SELECT hit_id, x.txn_id FROM h, UNNEST(string_split(h.evidence_txn_ids, ';')) AS x(txn_id)
        WHERE h.evidence_txn_ids IS NOT NULL AND h.evidence_txn_ids <> ''
    )
    {union}"""


def _truth_items_sql(engine: Engine) -> str:
    """(indicator, kind, id) for every labelled record carrying an indicator id."""
    parts = []
    if engine.has_table("truth_transaction_labels"):
        parts.append(
            """SELECT TRIM(x.i) AS indicator, 'transaction' AS kind, l.txn_id AS id
               FROM truth_transaction_labels l, UNNEST(string_split(l.indicator_ids, ';')) AS x(i)
               WHERE l.is_laundering AND l.indicator_ids IS NOT NULL AND l.indicator_ids <> ''"""
        )
    if engine.has_table("truth_entity_labels"):
        parts.append(
            """SELECT TRIM(x.i), l.entity_kind, l.entity_id
               FROM truth_entity_labels l, UNNEST(string_split(l.indicator_ids, ';')) AS x(i)
               WHERE l.indicator_ids IS NOT NULL AND l.indicator_ids <> ''"""
        )
    return "\nUNION\n".join(parts) if parts else ""


def _laundering_sql(engine: Engine) -> str:
    """(kind, id) of every record labelled as laundering."""
    parts = []
    if engine.has_table("truth_transaction_labels"):
        parts.append(
            "SELECT 'transaction' AS kind, txn_id AS id FROM truth_transaction_labels WHERE is_laundering"
        )
    if engine.has_table("truth_account_labels"):
        parts.append("SELECT 'account', account_id FROM truth_account_labels WHERE is_laundering")
    if engine.has_table("truth_entity_labels"):
        parts.append(
            "SELECT CASE WHEN entity_kind = 'property_transfer' THEN 'property' ELSE entity_kind END, entity_id "
            "FROM truth_entity_labels WHERE COALESCE(stage, '') <> 'legitimate'"
        )
        if engine.has_table("property_transfers"):
            parts.append(
                """SELECT 'property', t.property_id FROM truth_entity_labels l JOIN property_transfers t
                   ON l.entity_kind = 'property_transfer' AND t.transfer_id = l.entity_id
                   WHERE COALESCE(l.stage, '') <> 'legitimate'"""
            )
    if engine.has_table("truth_party_labels"):
        parts.append(
            "SELECT 'party', party_id FROM truth_party_labels WHERE network_id IS NOT NULL AND network_id <> ''"
        )
    return "\nUNION\n".join(parts)


def evaluate_detectors(ws: Workspace, engine_name: str = "duckdb") -> dict[str, Any]:
    """Per detector precision and per indicator (or benchmark typology) recall, as a plain dict."""
    if not ws.has(HITS_TABLE):
        raise WorkspaceError(f"The workspace {ws.root} has no detector_hits; run `moneytrail detect` first.")
    if not ws.names("truth"):
        raise WorkspaceError(f"The workspace {ws.root} has no ground truth in truth/ to evaluate against.")
    catalog = load_catalog()
    with make_engine(engine_name, ws, include_truth=True) as eng:
        eng.register_arrow("_cover", eng.query(hit_cover_sql(eng), label="hit coverage"))
        out: dict[str, Any] = {"detectors": {}, "indicators": {}, "typologies": {}}
        laundering = _laundering_sql(eng)
        # precision looks at what the hit names: its entity and its evidence transactions
        prec = eng.query(
            f"""WITH bad AS ({laundering}),
                h AS (SELECT hit_id, detector_id, entity_kind, entity_id, evidence_txn_ids FROM {HITS_TABLE}),
                named AS (
                    SELECT hit_id, CASE WHEN entity_kind = 'property' THEN 'property' ELSE entity_kind END AS kind,
                           entity_id AS id FROM h
                    UNION ALL
                    SELECT hit_id, 'transaction', x.txn_id FROM h, UNNEST(string_split(h.evidence_txn_ids, ';')) AS x(txn_id)
                    WHERE h.evidence_txn_ids IS NOT NULL AND h.evidence_txn_ids <> ''
                ),
                good AS (SELECT DISTINCT n.hit_id FROM named n JOIN bad b ON b.kind = n.kind AND b.id = n.id)
                SELECT h.detector_id, COUNT(*) AS hits, COUNT(g.hit_id) AS true_hits
                FROM h LEFT JOIN good g ON g.hit_id = h.hit_id GROUP BY h.detector_id
                ORDER BY h.detector_id""",
            label="detector precision",
        ).to_pylist()
        for r in prec:
            out["detectors"][r["detector_id"]] = {
                "hits": r["hits"],
                "true_hits": r["true_hits"],
                "precision": round(r["true_hits"] / r["hits"], 4) if r["hits"] else None,
            }
        truth = _truth_items_sql(eng)
        if truth:
            declared = " UNION ALL ".join(
                f"SELECT '{d.id}' AS detector_id, '{i}' AS indicator"
                for d in catalog.values()
                for i in d.indicators
            )
            rows = eng.query(
                f"""WITH t AS ({truth}), decl AS ({declared}),
                    cov AS (
                        SELECT DISTINCT t.indicator, t.kind, t.id FROM t
                        JOIN _cover c ON c.kind = t.kind AND c.id = t.id
                        JOIN decl d ON d.detector_id = c.detector_id AND d.indicator = t.indicator
                    )
                    SELECT t.indicator, COUNT(*) AS records, COUNT(cov.id) AS covered
                    FROM t LEFT JOIN cov ON cov.indicator = t.indicator AND cov.kind = t.kind AND cov.id = t.id
                    GROUP BY t.indicator ORDER BY t.indicator""",
                label="indicator recall",
            ).to_pylist()
            for r in rows:
                out["indicators"][r["indicator"]] = {
                    "records": r["records"],
                    "covered": r["covered"],
                    "recall": round(r["covered"] / r["records"], 4) if r["records"] else None,
                    "detectors": [d.id for d in catalog.values() if r["indicator"] in d.indicators],
                }
        if not out["indicators"] and eng.has_table("truth_transaction_labels"):
            _typology_recall(eng, out)
    return out


def _typology_recall(eng: Engine, out: dict[str, Any]) -> None:
    """Account-level recall per benchmark typology, per detector and for all detectors together."""
    rows = eng.query(
        """WITH pos AS (
               SELECT DISTINCT l.typology, a.acct FROM truth_transaction_labels l JOIN transactions t ON t.txn_id = l.txn_id,
               (SELECT t.src_account_id AS acct UNION ALL SELECT t.dst_account_id) AS a
               WHERE l.is_laundering AND l.typology IS NOT NULL AND l.typology <> ''
           ),
           cov AS (SELECT DISTINCT detector_id, id FROM _cover WHERE kind = 'account')
           SELECT p.typology, c.detector_id, COUNT(DISTINCT p.acct) AS covered,
                  MAX(n.total) AS total
           FROM pos p JOIN (SELECT typology, COUNT(*) AS total FROM pos GROUP BY typology) n ON n.typology = p.typology
           LEFT JOIN cov c ON c.id = p.acct
           GROUP BY p.typology, c.detector_id ORDER BY p.typology, c.detector_id NULLS LAST""",
        label="typology recall",
    ).to_pylist()
    anyrows = eng.query(
        """WITH pos AS (
               SELECT DISTINCT l.typology, a.acct FROM truth_transaction_labels l JOIN transactions t ON t.txn_id = l.txn_id,
               (SELECT t.src_account_id AS acct UNION ALL SELECT t.dst_account_id) AS a
               WHERE l.is_laundering AND l.typology IS NOT NULL AND l.typology <> ''
           )
           SELECT p.typology, COUNT(*) AS total,
                  COUNT(*) FILTER (WHERE p.acct IN (SELECT id FROM _cover WHERE kind = 'account')) AS covered
           FROM pos p GROUP BY p.typology ORDER BY p.typology""",
        label="typology recall (all)",
    ).to_pylist()
    for r in anyrows:
        out["typologies"][r["typology"]] = {
            "accounts": r["total"],
            "recall_any": round(r["covered"] / r["total"], 4) if r["total"] else None,
            "by_detector": {},
        }
    for r in rows:
        if r["detector_id"] is None:
            continue
        entry = out["typologies"][r["typology"]]
        entry["by_detector"][r["detector_id"]] = round(r["covered"] / r["total"], 4)
    for entry in out["typologies"].values():
        best = max(entry["by_detector"].items(), key=lambda kv: kv[1], default=(None, 0.0))
        entry["best_detector"], entry["best_recall"] = best


def render(metrics: dict[str, Any], console: Console) -> None:
    """Print the metrics as tables."""
    t = Table(title="Detectors")
    for col in ("detector", "hits", "true hits", "precision"):
        t.add_column(col, justify="left" if col == "detector" else "right")
    for did, m in sorted(metrics["detectors"].items()):
        p = m["precision"]
        t.add_row(did, f"{m['hits']:,}", f"{m['true_hits']:,}", "" if p is None else f"{p:.3f}")
    console.print(t)
    if metrics["indicators"]:
        t = Table(title="Recall per indicator")
        for col in ("indicator", "records", "covered", "recall", "detectors"):
            t.add_column(col, justify="left" if col in ("indicator", "detectors") else "right")
        for ind, m in sorted(metrics["indicators"].items()):
            r = m["recall"]
            t.add_row(
                ind,
                f"{m['records']:,}",
                f"{m['covered']:,}",
                "" if r is None else f"{r:.3f}",
                ", ".join(m["detectors"]),
            )
        console.print(t)
    if metrics["typologies"]:
        t = Table(title="Recall per benchmark typology (accounts)")
        for col in ("typology", "accounts", "all detectors", "best detector", "its recall"):
            t.add_column(col, justify="left" if col in ("typology", "best detector") else "right")
        for typ, m in sorted(metrics["typologies"].items()):
            t.add_row(
                typ,
                f"{m['accounts']:,}",
                f"{m['recall_any']:.3f}",
                m["best_detector"] or "",
                f"{m['best_recall']:.3f}",
            )
        console.print(t)
