"""Per-transaction features, as portable SQL: how unusual a payment is for both of its accounts.

A payment is suspicious when it is new (a pair that moves money once), out of scale for the payer
or the payee, in a foreign currency or across borders, just under a reporting threshold, or passed
straight on (the payee sends a similar value out the same or the next day).
"""

from __future__ import annotations

from moneytrail.score.features import THRESHOLD_CAD, cents_sql

TXN_FEATURES = [
    "amount",
    "pair_n",
    "amt_ratio_src",
    "amt_ratio_dst",
    "amt_z_src",
    "amt_z_dst",
    "foreign_currency",
    "cross_border",
    "below_threshold",
    "round_amount",
    "passthrough_next_day",
    "src_single_pair_share",
    "dst_single_pair_share",
    "src_cp_single_pair_share",
    "dst_cp_single_pair_share",
    "src_degree",
    "dst_degree",
    "src_off_schedule",
    "dst_off_schedule",
    "forwarded",
    "fed",
    "wire",
    "src_hop_share",
    "dst_hop_share",
    "src_oneoff_offsched_n",
    "dst_oneoff_offsched_n",
]
# Account scores of both ends are added as features at scoring time (not in the SQL).
ENDPOINT_FEATURES = ["src_account_score", "dst_account_score"]


def txn_features_sql(
    transactions: str = "transactions",
    accounts: str = "accounts",
    account_features: str = "account_features",
    signals: str = "txn_signals",
) -> str:
    """Features of every transaction with its accounts, ordered by ``txn_id`` (``signals``: see
    ``score.signals``, which also gives ``pair_n``)."""
    t = THRESHOLD_CAD
    amt = "COALESCE(t.amount_cad, t.amount)"
    return f"""
WITH day_out AS (
  SELECT src_account_id AS account_id, CAST(ts AS DATE) AS d,
    CAST(SUM({cents_sql("COALESCE(amount_cad, amount)")}) AS DOUBLE) / 100 AS v
  FROM {transactions} GROUP BY src_account_id, CAST(ts AS DATE)
)
SELECT t.txn_id, t.src_account_id, t.dst_account_id,
  {amt} AS amount,
  COALESCE(sg.pair_n, 1) AS pair_n,
  CASE WHEN fs.mean_out > 0 THEN {amt} / fs.mean_out ELSE 0 END AS amt_ratio_src,
  CASE WHEN fd.mean_in > 0 THEN {amt} / fd.mean_in ELSE 0 END AS amt_ratio_dst,
  CASE WHEN fs.std_out > 0 THEN ({amt} - fs.mean_out) / fs.std_out ELSE 0 END AS amt_z_src,
  CASE WHEN fd.std_in > 0 THEN ({amt} - fd.mean_in) / fd.std_in ELSE 0 END AS amt_z_dst,
  CASE WHEN (a.currency IS NOT NULL AND t.currency <> a.currency)
         OR (b.currency IS NOT NULL AND t.currency <> b.currency) THEN 1 ELSE 0 END AS foreign_currency,
  CASE WHEN COALESCE(t.country_src, a.country) <> COALESCE(t.country_dst, b.country) THEN 1 ELSE 0 END
    AS cross_border,
  CASE WHEN {amt} >= {0.8 * t} AND {amt} < {t} THEN 1 ELSE 0 END AS below_threshold,
  CASE WHEN {amt} = ROUND({amt} / 100) * 100 THEN 1 ELSE 0 END AS round_amount,
  CASE WHEN {amt} > 0 THEN LEAST(COALESCE(o0.v, 0) + COALESCE(o1.v, 0), 2 * {amt}) / {amt} ELSE 0 END
    AS passthrough_next_day,
  COALESCE(fs.single_pair_share, 0) AS src_single_pair_share,
  COALESCE(fd.single_pair_share, 0) AS dst_single_pair_share,
  COALESCE(fs.cp_single_pair_share, 0) AS src_cp_single_pair_share,
  COALESCE(fd.cp_single_pair_share, 0) AS dst_cp_single_pair_share,
  COALESCE(fs.degree_out + fs.degree_in, 0) AS src_degree,
  COALESCE(fd.degree_out + fd.degree_in, 0) AS dst_degree,
  COALESCE(sg.src_off_schedule, 0) AS src_off_schedule,
  COALESCE(sg.dst_off_schedule, 0) AS dst_off_schedule,
  COALESCE(sg.forwarded, 0) AS forwarded,
  COALESCE(sg.fed, 0) AS fed,
  COALESCE(sg.wire, 0) AS wire,
  COALESCE(fs.hop_share, 0) AS src_hop_share,
  COALESCE(fd.hop_share, 0) AS dst_hop_share,
  COALESCE(fs.oneoff_offsched_n, 0) AS src_oneoff_offsched_n,
  COALESCE(fd.oneoff_offsched_n, 0) AS dst_oneoff_offsched_n
FROM {transactions} t
LEFT JOIN {signals} sg ON sg.txn_id = t.txn_id
LEFT JOIN {account_features} fs ON fs.account_id = t.src_account_id
LEFT JOIN {account_features} fd ON fd.account_id = t.dst_account_id
LEFT JOIN {accounts} a ON a.account_id = t.src_account_id
LEFT JOIN {accounts} b ON b.account_id = t.dst_account_id
LEFT JOIN day_out o0 ON o0.account_id = t.dst_account_id AND o0.d = CAST(t.ts AS DATE)
LEFT JOIN day_out o1 ON o1.account_id = t.dst_account_id AND o1.d = CAST(t.ts AS DATE) + INTERVAL 1 DAY
ORDER BY t.txn_id"""
