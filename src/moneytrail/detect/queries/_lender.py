"""Shared builders for the private-lender detectors: a lender's bank accounts and the money into them."""

from __future__ import annotations

from moneytrail.detect.queries._property import PAYMENT_AFTER_S, PAYMENT_BEFORE_S
from moneytrail.detect.sql import CASH_CHANNELS, epoch, in_list, same_person_sql

PRIVATE_CHARGES = (
    "SELECT * FROM property_transfers "
    "WHERE lender_party_id IS NOT NULL AND COALESCE(lender_kind, 'private') = 'private'"
)


def lender_accounts_sql() -> str:
    """``(lender_party_id, account_id)``: the bank accounts of each private lender named on a
    land-title charge. Land-title and bank records name the lender differently, so an account is
    the lender's when entity resolution puts its holder with the lender, or when it paid one of the
    lender's mortgage advances (the charge's amount into a lawyer's trust account around its date)."""
    return f"""
    SELECT DISTINCT l.lender_party_id, a.account_id
    FROM (SELECT DISTINCT lender_party_id FROM ({PRIVATE_CHARGES}) AS pc) l
    JOIN ({same_person_sql()}) AS sp ON sp.party_id = l.lender_party_id
    JOIN accounts a ON a.holder_party_id = sp.other_id
    UNION
    SELECT DISTINCT x.lender_party_id, t.src_account_id
    FROM ({PRIVATE_CHARGES}) AS x
    JOIN transactions t ON ROUND(CAST(COALESCE(t.amount_cad, t.amount) AS DOUBLE), 2) = ROUND(x.mortgage_amount, 2)
      AND {epoch("t.ts")} BETWEEN {epoch("x.ts")} - {PAYMENT_BEFORE_S} AND {epoch("x.ts")} + {PAYMENT_AFTER_S}
    JOIN accounts d ON d.account_id = t.dst_account_id AND d.institution_type = 'lawyer_trust'
    WHERE x.mortgage_amount > 0"""


def lender_money_sql() -> str:
    """``(lender_party_id, txn_id, ts, amt, kind, source_party_id)``: cash paid into a private
    lender's accounts (``kind`` 'cash_in', with the holder of the paying account as the source) and
    the lender's payments into lawyers' trust accounts, the mortgage advances (``kind`` 'advance')."""
    return f"""
    WITH la AS ({lender_accounts_sql()})
    SELECT la.lender_party_id, t.txn_id, t.ts, CAST(COALESCE(t.amount_cad, t.amount) AS DOUBLE) AS amt,
           'cash_in' AS kind, sa.holder_party_id AS source_party_id
    FROM la JOIN transactions t ON t.dst_account_id = la.account_id AND t.channel IN {in_list(CASH_CHANNELS)}
    LEFT JOIN accounts sa ON sa.account_id = t.src_account_id
    WHERE t.src_account_id IS NULL OR t.src_account_id <> t.dst_account_id
    UNION ALL
    SELECT la.lender_party_id, t.txn_id, t.ts, CAST(COALESCE(t.amount_cad, t.amount) AS DOUBLE), 'advance',
           CAST(NULL AS VARCHAR)
    FROM la JOIN transactions t ON t.src_account_id = la.account_id
    JOIN accounts d ON d.account_id = t.dst_account_id AND d.institution_type = 'lawyer_trust'"""
