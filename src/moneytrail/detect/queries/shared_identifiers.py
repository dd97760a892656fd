"""G7 shared identifiers across apparently unrelated parties."""

from __future__ import annotations

from moneytrail.detect.sql import clamp01, metrics_sql


def shared_identifiers_sql(p: dict) -> str:
    """Parties sharing a phone number or e-mail address with at least ``min_parties`` - 1 other parties of different surnames (addresses count from ``min_parties_address``)."""
    return f"""
    WITH ids AS (
        SELECT party_id, 'phone' AS kind, REGEXP_REPLACE(phone, '[^0-9]', '', 'g') AS v, name FROM parties WHERE phone IS NOT NULL
        UNION ALL SELECT party_id, 'email', LOWER(TRIM(email)), name FROM parties WHERE email IS NOT NULL
        UNION ALL SELECT party_id, 'address', LOWER(REGEXP_REPLACE(address, '[^A-Za-z0-9]', '', 'g')), name FROM parties WHERE address IS NOT NULL
    ),
    grp AS (
        SELECT kind, v, COUNT(DISTINCT party_id) AS n, COUNT(DISTINCT LOWER(REGEXP_REPLACE(COALESCE(name, ''), '^.* ', ''))) AS surnames
        FROM ids WHERE LENGTH(v) >= 5 GROUP BY kind, v
        HAVING COUNT(DISTINCT party_id) >= CASE WHEN kind = 'address' THEN {int(p["min_parties_address"])} ELSE {int(p["min_parties"])} END
           AND COUNT(DISTINCT party_id) <= {int(p["max_parties"])}
    )
    SELECT 'party' AS entity_kind, i.party_id AS entity_id, CAST(NULL AS TIMESTAMP) AS window_start, CAST(NULL AS TIMESTAMP) AS window_end,
           {metrics_sql({"max_sharing": "MAX(g.n)", "shared_identifiers": "COUNT(*)"})} AS metrics,
           CAST(NULL AS VARCHAR) AS evidence_txn_ids, {clamp01("MAX(g.n) / 10.0 + 0.4")} AS strength
    FROM ids i JOIN grp g ON g.kind = i.kind AND g.v = i.v
    WHERE g.surnames >= 2
    GROUP BY i.party_id
    """
