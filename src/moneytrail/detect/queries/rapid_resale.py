"""R5 rapid resale (flip) with a large price change."""

from __future__ import annotations

from moneytrail.detect.queries._property import with_transfer_evidence_sql
from moneytrail.detect.sql import clamp01, epoch, metrics_sql


def rapid_resale_sql(p: dict) -> str:
    """Properties resold within ``max_days`` whose price changed by at least ``min_change`` (up or down)."""
    return with_transfer_evidence_sql(
        f"""
    WITH t AS (
        SELECT property_id, transfer_id, ts, price, {epoch("ts")} AS tt,
               LAG(transfer_id) OVER (PARTITION BY property_id ORDER BY ts, transfer_id) AS prev_id,
               LAG(ts) OVER (PARTITION BY property_id ORDER BY ts, transfer_id) AS prev_ts,
               LAG(price) OVER (PARTITION BY property_id ORDER BY ts, transfer_id) AS prev_price
        FROM property_transfers
    )
    SELECT 'property' AS entity_kind, property_id AS entity_id, prev_ts AS window_start, ts AS window_end,
           {metrics_sql({"days": "(tt - " + epoch("prev_ts") + ") / 86400.0", "price_change": "price / prev_price - 1"})} AS metrics,
           CAST(NULL AS VARCHAR) AS evidence_txn_ids, {clamp01("0.5 + ABS(price / prev_price - 1)")} AS strength,
           prev_id || ';' || transfer_id AS transfer_ids
    FROM t
    WHERE prev_ts IS NOT NULL AND tt - {epoch("prev_ts")} <= {int(p["max_days"]) * 86400} AND prev_price > 0
      AND ABS(price / prev_price - 1) >= {float(p["min_change"])}
    """
    )
