"""Pure SQL builders for the report inputs. They return strings; the engine runs them.

Id lists are registered with the engine as small relations (``report_ids_*``) rather than
inlined, so a lead with thousands of members does not produce a huge statement.
"""

from __future__ import annotations


def _lit(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def lead_sql(lead_id: str) -> str:
    """The lead row with id ``lead_id``."""
    return f"SELECT * FROM leads WHERE lead_id = {_lit(lead_id)}"


def member_hits_sql(account_ids: str, party_ids: str, txn_table: str = "transactions") -> str:
    """Detector hits about a member account or party, or about a transaction touching a member account."""
    return f"""
SELECT h.* FROM detector_hits h
WHERE (h.entity_kind = 'account' AND h.entity_id IN (SELECT id FROM {account_ids}))
   OR (h.entity_kind = 'party' AND h.entity_id IN (SELECT id FROM {party_ids}))
   OR (h.entity_kind = 'transaction' AND h.entity_id IN (
        SELECT t.txn_id FROM {txn_table} t
        WHERE t.src_account_id IN (SELECT id FROM {account_ids})
           OR t.dst_account_id IN (SELECT id FROM {account_ids})))
ORDER BY h.severity DESC, h.hit_id"""


def rows_by_id_sql(table: str, key: str, ids: str) -> str:
    """Rows of ``table`` whose ``key`` is in the id relation ``ids``, ordered by key."""
    return f"SELECT * FROM {table} WHERE {key} IN (SELECT id FROM {ids}) ORDER BY {key}"


def member_transactions_sql(account_ids: str, first_ts: str | None, last_ts: str | None, limit: int) -> str:
    """Transactions touching member accounts within the lead's time span (when hits carry no evidence)."""
    span = ""
    if first_ts and last_ts:
        span = f" AND ts BETWEEN CAST({_lit(first_ts)} AS TIMESTAMP) AND CAST({_lit(last_ts)} AS TIMESTAMP)"
    return f"""
SELECT * FROM transactions
WHERE (src_account_id IN (SELECT id FROM {account_ids}) OR dst_account_id IN (SELECT id FROM {account_ids})){span}
ORDER BY ts, txn_id
LIMIT {int(limit)}"""


def accounts_of_parties_sql(party_ids: str) -> str:
    """Accounts held by the parties in ``party_ids``."""
    return f"SELECT * FROM accounts WHERE holder_party_id IN (SELECT id FROM {party_ids}) ORDER BY account_id"


def links_among_sql(party_ids: str) -> str:
    """Links whose both ends are in ``party_ids``."""
    return f"""
SELECT * FROM links
WHERE party_a IN (SELECT id FROM {party_ids}) AND party_b IN (SELECT id FROM {party_ids})
ORDER BY party_a, party_b, kind"""


def transfers_of_parties_sql(party_ids: str) -> str:
    """Property transfers where a party in ``party_ids`` buys, sells, lends or pays the deposit."""
    return f"""
SELECT * FROM property_transfers
WHERE buyer_party_id IN (SELECT id FROM {party_ids})
   OR seller_party_id IN (SELECT id FROM {party_ids})
   OR lender_party_id IN (SELECT id FROM {party_ids})
   OR deposit_payer_party_id IN (SELECT id FROM {party_ids})
ORDER BY ts, transfer_id"""
