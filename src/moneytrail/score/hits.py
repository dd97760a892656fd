"""Detector hits rolled up per account: severities de-duplicated per indicator, by indicator family.

A hit on a transaction counts for both its accounts, a hit on a party for every account the party
holds. Severities are de-duplicated per indicator (a detector firing in ten windows is one
indicator at its worst severity), so a noisy detector cannot outweigh several distinct ones.
"""

from __future__ import annotations

from moneytrail.score.features import exact_sum_sql

# Indicator families from TYPOLOGIES.md: casino, underground banking, real estate, trade, cash and
# structuring, graph shapes.
FAMILIES = ("C", "U", "R", "T", "S", "G")
HIT_FEATURES = ["hit_score", "hit_count", "hit_indicators", "hit_max"] + [f"hit_{f}" for f in FAMILIES]


def account_hits_sql(
    hits: str = "detector_hits", transactions: str = "transactions", accounts: str = "accounts"
) -> str:
    """One row per (account, hit, indicator) with the hit's severity and evidence."""
    return f"""
WITH base AS (
  SELECT entity_id AS account_id, hit_id, indicator_ids, severity, evidence_txn_ids, detector_id
  FROM {hits} WHERE entity_kind = 'account'
  UNION ALL
  SELECT t.src_account_id, h.hit_id, h.indicator_ids, h.severity, h.evidence_txn_ids, h.detector_id
  FROM {hits} h JOIN {transactions} t ON h.entity_kind = 'transaction' AND t.txn_id = h.entity_id
  UNION ALL
  SELECT t.dst_account_id, h.hit_id, h.indicator_ids, h.severity, h.evidence_txn_ids, h.detector_id
  FROM {hits} h JOIN {transactions} t ON h.entity_kind = 'transaction' AND t.txn_id = h.entity_id
  UNION ALL
  SELECT a.account_id, h.hit_id, h.indicator_ids, h.severity, h.evidence_txn_ids, h.detector_id
  FROM {hits} h JOIN {accounts} a ON h.entity_kind = 'party' AND a.holder_party_id = h.entity_id
)
SELECT b.account_id, b.hit_id, b.detector_id, TRIM(ind.indicator) AS indicator, b.severity, b.evidence_txn_ids
FROM base b, UNNEST(string_split(b.indicator_ids, ';')) AS ind(indicator)
WHERE TRIM(ind.indicator) <> ''"""


def hit_features_sql(account_hits: str = "account_hits") -> str:
    """Per-account hit features from the relation ``account_hits`` (see :func:`account_hits_sql`);
    severities are summed on a fixed decimal grid, so the score is exact in any order."""
    fam = ",\n  ".join(
        f"COALESCE(MAX(CASE WHEN SUBSTRING(indicator, 1, 1) = '{f}' THEN worst END), 0) AS hit_{f}"
        for f in FAMILIES
    )
    return f"""
SELECT account_id,
  {exact_sum_sql("worst")} AS hit_score,
  CAST(SUM(hits) AS BIGINT) AS hit_count,
  COUNT(*) AS hit_indicators,
  MAX(worst) AS hit_max,
  {fam}
FROM (
  SELECT account_id, indicator, MAX(severity) AS worst, COUNT(DISTINCT hit_id) AS hits
  FROM {account_hits} GROUP BY account_id, indicator
) AS per_ind
GROUP BY account_id"""


def account_typologies_sql(account_hits: str = "account_hits") -> str:
    """Per account: the indicator ids that fired (sorted, ';'-joined) and the evidence transactions.

    Sorted distinct lists rather than ``string_agg(DISTINCT ...)``: Spark fails on a query with
    more than one of those. An account whose hits carry no evidence gets NULL evidence.
    """
    return f"""
SELECT account_id,
  array_to_string(array_sort(array_agg(DISTINCT indicator)), ';') AS typologies,
  array_to_string(array_sort(array_agg(DISTINCT detector_id)), ';') AS detectors,
  NULLIF(array_to_string(array_sort(array_agg(DISTINCT evidence_txn_ids)), ';'), '') AS evidence
FROM {account_hits} GROUP BY account_id"""
