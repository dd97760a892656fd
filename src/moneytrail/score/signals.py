"""Transaction signals: how each payment breaks its accounts' routine, as portable SQL.

Laundering money moves along relations that ordinary life does not use. These signals describe a
payment by its place in its accounts' behaviour rather than by any one generator's amounts:

- ``pair_n``: how often the payer has paid this payee (a one-off relation is unusual);
- ``src_off_schedule`` / ``dst_off_schedule``: the payment falls outside the payer's (payee's)
  regular rhythm, i.e. neither gap to its neighbouring payments in that direction is the account's
  most common gap (recurring payments keep a rhythm, injected ones do not);
- ``forwarded``: the payee sends on a similar value (70% to 105%, in the reporting currency or as
  the same figure in another currency) within three days, a layering hop;
- ``fed``: the payer received a similar value in the three days before, the other end of the hop;
- ``wire``: the payment is a wire transfer.

Rolled up per account (:func:`account_signal_features_sql`) they give the transaction risk of an
account's worst payments, how much of what it receives it relays (``relay_*``) and how much of what
it sends it was fed just before (``fed_share``), and its counterparties' values (two hops).
"""

from __future__ import annotations

from moneytrail.score.features import cents_sql, exact_mean_sql

# Per-account features rolled up from the transaction signals.
SIGNAL_FEATURES = [
    "oneoff_offsched_max",
    "oneoff_offsched_n",
    "offsched_share",
    "hop_n",
    "hop_share",
    "hop_value_share",
    "wire_share",
    "wire_hop_n",
    "relay_n",
    "relay_share",
    "fed_share",
    "cp_oneoff_offsched_mean",
    "cp_hop_share_mean",
    "cp_hop_max",
]
TXN_SIGNALS = ["src_off_schedule", "dst_off_schedule", "forwarded", "fed", "wire", "hop"]

# A layering hop: the value sent on is within this band of the value received, within HOP_DAYS.
HOP_LOW, HOP_HIGH, HOP_DAYS = 0.7, 1.05, 3


def txn_signals_sql(transactions: str = "transactions", txn_pairs: str | None = None) -> str:
    """One row per transaction: txn_id, src/dst account, ``pair_n`` and :data:`TXN_SIGNALS`.

    ``txn_pairs``: the payer-payee relation of ``transactions`` when the caller has it (see
    ``features.txn_pairs_sql``; its ``n`` is ``pair_n``), else it is counted here.
    """
    amt = "COALESCE(amount_cad, amount)"
    epoch = "epoch(ts)"
    day = "CAST(ts AS DATE)"
    hop_band = (
        f"b.e > a.e AND b.e - a.e <= {HOP_DAYS} * 86400 AND b.dst_account_id <> a.src_account_id "
        f"AND ((b.amt >= {HOP_LOW} * a.amt AND b.amt <= {HOP_HIGH} * a.amt AND a.amt > 0) "
        f"OR (b.raw >= {HOP_LOW} * a.raw AND b.raw <= {HOP_HIGH} * a.raw AND a.raw > 0))"
    )
    # Each payment once per day it may be passed on in (the same day and each following day), then
    # one equi-join with the payee's payments on that day: one hash table of the payments instead
    # of one per day offset (a join against a table of offsets plans as a far slower cross product).
    hop_days = "\n  UNION ALL\n  ".join(
        f"SELECT txn_id, src_account_id, dst_account_id, amt, raw, e, d + {k} AS dk FROM t"
        for k in range(HOP_DAYS + 1)
    )
    hops = (
        "SELECT a.txn_id AS in_txn, b.txn_id AS out_txn FROM hop_days a JOIN t b "
        f"ON b.src_account_id = a.dst_account_id AND b.d = a.dk WHERE {hop_band}"
    )
    pair = (
        "SELECT src_account_id, dst_account_id, COUNT(*) AS pair_n FROM t GROUP BY src_account_id, dst_account_id"
        if txn_pairs is None
        else f"SELECT src AS src_account_id, dst AS dst_account_id, n AS pair_n FROM {txn_pairs}"
    )
    return f"""
WITH t AS (
  SELECT txn_id, src_account_id, dst_account_id, {amt} AS amt, amount AS raw, {epoch} AS e, {day} AS d,
    channel
  FROM {transactions}
), gaps AS (  -- each payment's gaps to the payer's payments and to the payee's receipts around it
  SELECT t.*,
    e - LAG(e) OVER (PARTITION BY src_account_id ORDER BY e, txn_id) AS gp_out,
    LEAD(e) OVER (PARTITION BY src_account_id ORDER BY e, txn_id) - e AS gn_out,
    e - LAG(e) OVER (PARTITION BY dst_account_id ORDER BY e, txn_id) AS gp_in,
    LEAD(e) OVER (PARTITION BY dst_account_id ORDER BY e, txn_id) - e AS gn_in
  FROM t
), gap_counts AS (  -- dir 1: the account's payments, 0: its receipts
  SELECT src_account_id AS account_id, 1 AS dir, gp_out AS gp, COUNT(*) AS k
  FROM gaps WHERE gp_out IS NOT NULL GROUP BY src_account_id, gp_out
  UNION ALL
  SELECT dst_account_id, 0, gp_in, COUNT(*) FROM gaps WHERE gp_in IS NOT NULL GROUP BY dst_account_id, gp_in
), top_count AS (
  SELECT account_id, dir, MAX(k) AS k FROM gap_counts GROUP BY account_id, dir
), rhythm AS (  -- the account's most common gap (the shortest among equally common ones)
  SELECT g.account_id, g.dir, MIN(g.gp) AS usual_gap
  FROM gap_counts g JOIN top_count c ON c.account_id = g.account_id AND c.dir = g.dir AND c.k = g.k
  GROUP BY g.account_id, g.dir
), off AS (
  SELECT g.*,
    CASE WHEN ro.usual_gap IS NULL THEN 1
         WHEN COALESCE(g.gp_out, -1) <> ro.usual_gap AND COALESCE(g.gn_out, -1) <> ro.usual_gap THEN 1
         ELSE 0 END AS src_off_schedule,
    CASE WHEN ri.usual_gap IS NULL THEN 1
         WHEN COALESCE(g.gp_in, -1) <> ri.usual_gap AND COALESCE(g.gn_in, -1) <> ri.usual_gap THEN 1
         ELSE 0 END AS dst_off_schedule
  FROM gaps g
  LEFT JOIN rhythm ro ON ro.account_id = g.src_account_id AND ro.dir = 1
  LEFT JOIN rhythm ri ON ri.account_id = g.dst_account_id AND ri.dir = 0
), pair AS (
  {pair}
), hop_days AS (
  {hop_days}
), hop AS (
  {hops}
), fwd AS (SELECT DISTINCT in_txn AS txn_id FROM hop),
fed AS (SELECT DISTINCT out_txn AS txn_id FROM hop)
SELECT o.txn_id, o.src_account_id, o.dst_account_id, o.amt, p.pair_n, o.src_off_schedule, o.dst_off_schedule,
  CASE WHEN fwd.txn_id IS NULL THEN 0 ELSE 1 END AS forwarded,
  CASE WHEN fed.txn_id IS NULL THEN 0 ELSE 1 END AS fed,
  CASE WHEN o.channel = 'wire' THEN 1 ELSE 0 END AS wire,
  CASE WHEN fwd.txn_id IS NULL AND fed.txn_id IS NULL THEN 0 ELSE 1 END AS hop
FROM off o
JOIN pair p ON p.src_account_id = o.src_account_id AND p.dst_account_id = o.dst_account_id
LEFT JOIN fwd ON fwd.txn_id = o.txn_id
LEFT JOIN fed ON fed.txn_id = o.txn_id"""


def account_signal_features_sql(signals: str = "txn_signals", txn_pairs: str | None = None) -> str:
    """:data:`SIGNAL_FEATURES` per account with transactions, from the relation ``signals``
    (values summed in cents, shares averaged on a fixed grid: exact in any order).

    ``txn_pairs``: the payer-payee relation of the same transactions when the caller has it (see
    ``features.txn_pairs_sql``), the smaller place to find each account's counterparties.
    """
    if txn_pairs is None:
        cps = "SELECT DISTINCT account_id, cp FROM legs"
    else:
        cps = f"SELECT src AS account_id, dst AS cp FROM {txn_pairs} UNION SELECT dst, src FROM {txn_pairs}"
    return f"""
WITH legs AS (
  SELECT src_account_id AS account_id, dst_account_id AS cp, 1 AS outgoing, {cents_sql("amt")} AS cents, pair_n,
    src_off_schedule AS off_me, src_off_schedule, hop, wire, fed AS relayed FROM {signals}
  UNION ALL
  SELECT dst_account_id, src_account_id, 0, {cents_sql("amt")}, pair_n, dst_off_schedule, src_off_schedule, hop, wire,
    forwarded FROM {signals}
), acc AS (
  SELECT account_id,
    MAX(CASE WHEN pair_n = 1 THEN src_off_schedule ELSE 0 END) AS oneoff_offsched_max,
    CAST(SUM(CASE WHEN pair_n = 1 THEN src_off_schedule ELSE 0 END) AS BIGINT) AS oneoff_offsched_n,
    AVG(CAST(off_me AS DOUBLE)) AS offsched_share,
    CAST(SUM(hop) AS BIGINT) AS hop_n,
    AVG(CAST(hop AS DOUBLE)) AS hop_share,
    CASE WHEN SUM(cents) > 0 THEN SUM(CASE WHEN hop = 1 THEN cents ELSE 0 END) / CAST(SUM(cents) AS DOUBLE)
      ELSE 0 END
      AS hop_value_share,
    AVG(CAST(wire AS DOUBLE)) AS wire_share,
    CAST(SUM(hop * wire) AS BIGINT) AS wire_hop_n,
    CAST(SUM(CASE WHEN outgoing = 0 THEN relayed ELSE 0 END) AS BIGINT) AS relay_n,
    COALESCE(AVG(CASE WHEN outgoing = 0 THEN CAST(relayed AS DOUBLE) END), 0) AS relay_share,
    COALESCE(AVG(CASE WHEN outgoing = 1 THEN CAST(relayed AS DOUBLE) END), 0) AS fed_share
  FROM legs GROUP BY account_id
), nb AS (
  SELECT l.account_id,
    AVG(CAST(c.oneoff_offsched_max AS DOUBLE)) AS cp_oneoff_offsched_mean,
    {exact_mean_sql("c.hop_share")} AS cp_hop_share_mean,
    MAX(c.hop_n) AS cp_hop_max
  FROM ({cps}) AS l JOIN acc c ON c.account_id = l.cp
  GROUP BY l.account_id
)
SELECT acc.*, COALESCE(nb.cp_oneoff_offsched_mean, 0) AS cp_oneoff_offsched_mean,
  COALESCE(nb.cp_hop_share_mean, 0) AS cp_hop_share_mean, COALESCE(nb.cp_hop_max, 0) AS cp_hop_max
FROM acc LEFT JOIN nb ON nb.account_id = acc.account_id"""
