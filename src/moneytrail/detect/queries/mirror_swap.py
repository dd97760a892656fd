"""U3 mirror swap: Canadian cash matched by a yuan transfer inside China."""

from __future__ import annotations

from moneytrail.detect.sql import (
    CASH_CHANNELS,
    amount_band_sql,
    amount_band_width,
    clamp01,
    epoch,
    in_list,
    listed_sql,
    metrics_sql,
    prev_band_sql,
)


def mirror_swap_sql(p: dict) -> str:
    """Cash hand-overs in Canada of at least ``min_amount`` matched by a yuan transfer between accounts in China within ``max_lag_hours`` whose CAD value is the cash less a fee between ``min_fee`` and ``max_fee``; a match where the same party (or a ``same_as`` link) is on both sides ranks first."""
    lag = int(float(p["max_lag_hours"]) * 3600)
    lo, hi = 1.0 - float(p["max_fee"]), 1.0 - float(p["min_fee"])
    # Matched on (time bucket, amount band) so that busy days do not pair every cash hand-over with
    # every yuan transfer: a match lies within one bucket (two lags) after the cash time less one lag,
    # and within one band of the cash amount less the largest fee (see ``listed_sql``).
    bucket = max(2 * lag, 1)
    width = amount_band_width(lo, hi)
    cash_band = prev_band_sql("c.amt", width, lo) if width else "0"
    cny_band = amount_band_sql("y.amt", width) if width else "0"
    return f"""
    WITH tx AS (SELECT *, {epoch("ts")} AS t, CAST(COALESCE(amount_cad, amount) AS DOUBLE) AS amt FROM transactions),
    cash AS (
        SELECT c.txn_id, c.t, c.ts, c.amt, ha.holder_party_id AS p_src, hb.holder_party_id AS p_dst
        FROM tx c LEFT JOIN accounts ha ON ha.account_id = c.src_account_id LEFT JOIN accounts hb ON hb.account_id = c.dst_account_id
        WHERE c.channel IN {in_list(CASH_CHANNELS)} AND COALESCE(c.country_src, 'CA') = 'CA'
          AND COALESCE(c.country_dst, 'CA') = 'CA' AND c.amt >= {float(p["min_amount"])}
    ),
    cny AS (
        SELECT y.txn_id, y.t, y.ts, y.amt, ha.holder_party_id AS p_src, hb.holder_party_id AS p_dst
        FROM tx y LEFT JOIN accounts ha ON ha.account_id = y.src_account_id LEFT JOIN accounts hb ON hb.account_id = y.dst_account_id
        WHERE y.currency = 'CNY' AND y.country_src = 'CN' AND y.country_dst = 'CN'
          AND y.amt >= {float(p["min_amount"]) * lo}
    ),
    cash_keyed AS (SELECT c.*, FLOOR((c.t - {lag}) / {bucket}) AS jb, {cash_band} AS ab FROM cash c),
    cny_listed AS ({listed_sql(f"SELECT y.*, FLOOR(y.t / {bucket}) AS jb0, {cny_band} AS ab0 FROM cny y", width is not None)}),
    m AS (
        SELECT c.txn_id AS cash_id, y.txn_id AS cny_id, c.ts AS c_ts, y.ts AS y_ts, c.amt AS cash_cad, y.amt AS cny_cad,
               ABS(y.t - c.t) AS lag_s,
               CASE WHEN c.p_src IN (y.p_src, y.p_dst) OR c.p_dst IN (y.p_src, y.p_dst) THEN 1 ELSE 0 END AS linked
        FROM cash_keyed c JOIN cny_listed y ON y.jb = c.jb AND y.ab = c.ab AND y.t BETWEEN c.t - {lag} AND c.t + {lag}
         AND y.amt BETWEEN c.amt * {lo} AND c.amt * {hi}
    ),
    best AS (
        SELECT * FROM (
            SELECT m.*, ROW_NUMBER() OVER (PARTITION BY cash_id ORDER BY linked DESC, lag_s, cny_id) AS rn FROM m
        ) AS r WHERE rn = 1
    )
    SELECT 'transaction' AS entity_kind, cash_id AS entity_id, LEAST(c_ts, y_ts) AS window_start, GREATEST(c_ts, y_ts) AS window_end,
           {metrics_sql({"cash_cad": "cash_cad", "cny_cad": "cny_cad", "fee_share": "1 - cny_cad / cash_cad", "lag_hours": "lag_s / 3600.0", "same_party": "linked"})} AS metrics,
           CASE WHEN cash_id < cny_id THEN cash_id || ';' || cny_id ELSE cny_id || ';' || cash_id END AS evidence_txn_ids,
           {clamp01("0.6 + 0.4 * linked")} AS strength
    FROM best
    """
