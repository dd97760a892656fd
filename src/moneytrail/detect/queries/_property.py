"""Shared builder linking property transfers to the payments that made them."""

from __future__ import annotations

from moneytrail.detect.sql import epoch, evidence_sql

# Conveyancing money moves through a lawyer's trust account from a few days before completion
# until the day after.
PAYMENT_BEFORE_S = 3 * 86400
PAYMENT_AFTER_S = 86400


def transfer_payments_sql(transfers: str) -> str:
    """``(transfer_id, txn_id)``: the payments into and out of a lawyer's trust account of exactly
    the price of each transfer in ``transfers`` (a relation with ``transfer_id, ts, price``),
    from ``PAYMENT_BEFORE_S`` before to ``PAYMENT_AFTER_S`` after the transfer.

    Land-title and bank records name the buyer differently, so the purchase is linked to its money
    by what both sides record: the amount and the date.
    """
    return f"""
    SELECT DISTINCT x.transfer_id, t.txn_id
    FROM {transfers} x
    JOIN transactions t ON ROUND(CAST(COALESCE(t.amount_cad, t.amount) AS DOUBLE), 2) = ROUND(x.price, 2)
      AND {epoch("t.ts")} BETWEEN {epoch("x.ts")} - {PAYMENT_BEFORE_S} AND {epoch("x.ts")} + {PAYMENT_AFTER_S}
    JOIN accounts a ON a.account_id IN (t.src_account_id, t.dst_account_id) AND a.institution_type = 'lawyer_trust'
    WHERE x.price > 0"""


def with_transfer_evidence_sql(core_sql: str) -> str:
    """A detector core query with an extra ``transfer_ids`` column (';'-joined transfer ids behind
    each hit) completed with those transfers' payments (:func:`transfer_payments_sql`) as evidence."""
    return f"""
    WITH c AS ({core_sql}),
    ct AS (SELECT c.entity_kind, c.entity_id, c.window_start, x.tid AS transfer_id
           FROM c, UNNEST(string_split(c.transfer_ids, ';')) AS x(tid)),
    tr AS (SELECT p.transfer_id, p.ts, p.price FROM property_transfers p WHERE p.transfer_id IN (SELECT transfer_id FROM ct)),
    pay AS ({transfer_payments_sql("tr")}),
    ev_rows AS (SELECT ct.entity_kind, ct.entity_id, ct.window_start, pay.txn_id
                FROM ct JOIN pay ON pay.transfer_id = ct.transfer_id),
    ev AS ({evidence_sql("ev_rows", ["entity_kind", "entity_id", "window_start"])})
    SELECT c.entity_kind, c.entity_id, c.window_start, c.window_end, c.metrics,
           COALESCE(ev.evidence_txn_ids, c.evidence_txn_ids) AS evidence_txn_ids, c.strength
    FROM c LEFT JOIN ev ON ev.entity_kind = c.entity_kind AND ev.entity_id = c.entity_id
      AND ev.window_start = c.window_start"""
