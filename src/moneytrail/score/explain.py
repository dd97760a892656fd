"""Readable explanations: top feature contributions, indicators, evidence and lead narratives."""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pandas as pd

# Short names of the indicators in TYPOLOGIES.md, for sentences a person reads.
INDICATOR_NAMES = {
    "C1": "$20-bill buy-ins",
    "C2": "third-party cash delivery",
    "C3": "VIP cash advances repaid abroad",
    "C4": "buy-in with little play",
    "C5": "refining small bills",
    "C6": "proxy players",
    "C7": "buy-ins split under C$10,000",
    "C8": "third-party winnings cheques",
    "C9": "bank drafts by low-income buyers",
    "C10": "online-gambling round trips",
    "U1": "cash hub",
    "U2": "pass-through business",
    "U3": "mirror swap",
    "U4": "student or homemaker accounts with high volume",
    "U5": "cash pay-down and bulk purchases",
    "R1": "nominee buyer",
    "R2": "third-party or trust deposit",
    "R3": "property without income",
    "R4": "private lender cluster",
    "R5": "rapid resale",
    "R6": "cash luxury cars",
    "T1": "suspicious parcels",
    "T2": "fan-in abroad",
    "T3": "chemical vendor counterparties",
    "T4": "mis-declared cargo",
    "T5": "pill-press imports",
    "S1": "cash just under C$10,000",
    "S2": "transfers at or just under C$10,000",
    "S3": "large casino disbursements",
    "S4": "many MSBs in a short time",
    "G1": "fan-in",
    "G2": "fan-out",
    "G3": "scatter-gather",
    "G4": "cycle",
    "G5": "layering chain",
    "G6": "bipartite layers",
    "G7": "shared identifiers",
    "G8": "lender-property cluster",
}

FEATURE_NAMES = {
    "oneoff_offsched_max": "a one-off payment outside the payer's usual rhythm",
    "oneoff_offsched_n": "one-off payments outside the payer's usual rhythm",
    "offsched_share": "payments outside the account's usual rhythm",
    "hop_n": "money passed on at a similar value within days",
    "hop_share": "share of payments passed on at a similar value within days",
    "hop_value_share": "value passed on at a similar amount within days",
    "wire_share": "wire transfers",
    "wire_hop_n": "wire transfers passed on within days",
    "relay_n": "payments received and passed on within days",
    "relay_share": "share of payments received that are passed on within days",
    "fed_share": "share of payments sent just after receiving a similar value",
    "cp_oneoff_offsched_mean": "counterparties making one-off payments outside their rhythm",
    "cp_hop_share_mean": "counterparties that pass money on",
    "cp_hop_max": "a counterparty that passes money on",
    "cp_single_pair_share": "counterparties that also deal in one-off transfers",
    "single_pair_share": "one-off transfers",
    "single_pair_week_max": "burst of one-off transfers in a week",
    "passthrough_day_share": "days where money passes straight through",
    "passthrough_ratio": "money out close to money in",
    "max_week_cp_out": "many payees in one week",
    "max_week_cp_in": "many payers in one week",
    "foreign_currency_share": "payments in foreign currencies",
    "below_threshold_share": "amounts just under C$10,000",
    "hit_score": "detector hits",
    "seed_proximity": "close to accounts with detector hits",
    "community_hit_share": "community with detector hits",
}


def describe_indicators(ids: str | None) -> str:
    """'G1;S1' -> 'G1 (fan-in), S1 (cash just under C$10,000)'."""
    if not ids:
        return ""
    parts = [i for i in str(ids).split(";") if i]
    return ", ".join(f"{i} ({INDICATOR_NAMES[i]})" if i in INDICATOR_NAMES else i for i in parts)


def top_contributions(contrib: pd.DataFrame, k: int = 5) -> list[list[tuple[str, float]]]:
    """Per row, the ``k`` features that pushed the score up most (name, value), largest first."""
    cols = [c for c in contrib.columns if c != "bias"]
    if not cols:
        return [[] for _ in range(len(contrib))]
    vals = contrib[cols].to_numpy(float)
    order = np.argsort(-vals, axis=1, kind="stable")[:, :k]
    best = np.take_along_axis(vals, order, axis=1)
    keep = best > 0
    # The kept entries row by row, then split per row (one pass in Python, not a loop per row).
    names = np.asarray(cols, dtype=object)[order[keep]].tolist()
    pairs = [(name, round(v, 4)) for name, v in zip(names, best[keep].tolist(), strict=True)]
    ends = np.cumsum(keep.sum(axis=1))
    starts = (ends - keep.sum(axis=1)).tolist()
    return [pairs[a:b] for a, b in zip(starts, ends.tolist(), strict=True)]


# Contributions of an account's riskiest payment are named with this prefix, so an explanation says
# that the features belong to the payment and not to the account.
PAYMENT_PREFIX = "payment:"


def rolled_contributions(
    account_contrib: pd.DataFrame, txn_model, txn_frame: pd.DataFrame, best: np.ndarray
) -> pd.DataFrame:
    """The contributions that explain rolled-up account scores.

    Where an account's score came from its riskiest payment (``best`` >= 0, positions in
    ``txn_frame``), the payment's own SHAP values explain it, named ``payment:<feature>``; the other
    accounts keep the account model's contributions. Columns are the union, missing ones zero.
    """
    has = np.asarray(best) >= 0
    base = account_contrib.reset_index(drop=True)
    if not has.any():
        return base
    tc = txn_model.contributions(txn_frame.iloc[np.asarray(best)[has]])
    tc.columns = [c if c == "bias" else f"{PAYMENT_PREFIX}{c}" for c in tc.columns]
    tc.index = np.flatnonzero(has)
    return pd.concat([base.loc[~has], tc]).sort_index().fillna(0.0)


def contributions_json(top: list[tuple[str, float]]) -> str:
    """The contributions as a JSON object (what ``json.dumps`` gives, built faster for finite values)."""
    # A sum of finite values is finite unless it overflows, and then json.dumps gives the same text.
    if not math.isfinite(sum(v for _, v in top)):
        return json.dumps({name: value for name, value in top})
    return "{" + ", ".join(f"{_json_name(name)}: {float(value)!r}" for name, value in top) + "}"


@functools.cache
def _json_name(name: str) -> str:
    return json.dumps(name)


@functools.cache
def _feature_name(name: str) -> str:
    if name.startswith(PAYMENT_PREFIX):
        return "riskiest payment: " + _feature_name(name[len(PAYMENT_PREFIX) :])
    return FEATURE_NAMES.get(name, name.replace("_", " "))


def account_reason(
    score: float, top: list[tuple[str, float]], typologies: str | None, lead_id: str | None
) -> str:
    """One line: the indicators, the strongest features and the lead the account belongs to."""
    bits = []
    if typologies:
        bits.append(f"indicators {describe_indicators(typologies)}")
    if top:
        names = [_feature_name(n) for n, _ in top[:3]]
        bits.append("signals: " + "; ".join(names))
    if lead_id:
        bits.append(f"part of lead {lead_id}")
    if not bits:
        return "no suspicious activity found"
    return f"score {score:.3f}: " + ", ".join(bits)


def lead_narrative(lead: dict) -> str:
    """A paragraph built from a lead's evidence."""
    n_acc = len(lead["accounts"])
    n_par = len(lead["parties"])
    first = pd.Timestamp(lead["first_ts"]).strftime("%Y-%m-%d") if lead.get("first_ts") is not None else "?"
    last = pd.Timestamp(lead["last_ts"]).strftime("%Y-%m-%d") if lead.get("last_ts") is not None else "?"
    s = (
        f"Lead {lead['lead_id']} links {n_acc} account{'s' if n_acc != 1 else ''} held by {n_par} "
        f"part{'ies' if n_par != 1 else 'y'}. Between {first} and {last} they moved "
        f"{lead['total_value']:,.0f} in {lead['n_txns']:,} transaction{'s' if lead['n_txns'] != 1 else ''}"
        f"{' among themselves' if n_acc > 1 else ''}."
    )
    if lead.get("typologies"):
        s += f" Detectors found {describe_indicators(lead['typologies'])}."
    if lead.get("signals"):
        s += " The strongest signals were " + ", ".join(lead["signals"]) + "."
    s += f" The most suspicious account is {lead['top_account']} (score {lead['top_score']:.3f})."
    return s
