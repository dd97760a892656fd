"""The network of a lead or around one account, shaped for the graph view.

Nodes are accounts (sized by the money through them, coloured by institution type and risk); edges
carry the summed amount, count and time span of the transfers between two accounts. A network too
large to draw is aggregated: the members and the counterparties with the most money through them
stay, the rest become one node per institution type ("312 other bank accounts"; "40 more lead bank
accounts" for members past the budget), so a lead holding hub accounts with hundreds of thousands
of transfers still draws at most ``max_nodes`` accounts plus a handful of group nodes.

The aggregation runs on arrays (:class:`~moneytrail.investigate.web.reader.Transfers`): a hub's
transfers are counted and summed in a few milliseconds, where grouping them in SQL took seconds.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from moneytrail.investigate.web.reader import Reader, Transfers

MAX_NODES = 150
# When the members alone exceed the budget, this share of it goes to members, the rest to the
# biggest counterparties.
MEMBER_SHARE = 0.75


def _ts(v):
    # naive UTC timestamps, written as RFC 3339
    return v.isoformat() + "Z" if hasattr(v, "isoformat") and getattr(v, "tzinfo", None) is None else v


def budgets(n_members: int, max_nodes: int) -> tuple[int, int]:
    """(members kept, counterparties kept) for a network of ``n_members`` members."""
    if n_members <= max_nodes:
        return n_members, max_nodes - n_members
    kept = max(1, int(max_nodes * MEMBER_SHARE))
    return kept, max_nodes - kept


def _rfc3339(micros: np.ndarray) -> list[str]:
    """Naive UTC microsecond timestamps as RFC 3339 (fractions only when there are some)."""
    text = np.datetime_as_string(micros.astype("datetime64[us]"), unit="us").tolist()
    return [v.removesuffix(".000000") + "Z" for v in text]


def _top(codes: np.ndarray, volume: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` codes with the largest volume; equal volumes by account id (codes follow the ids)."""
    if k <= 0 or len(codes) == 0:
        return codes[:0]
    if len(codes) > k:
        # Only the candidates at or above the k-th largest volume need a full sort.
        threshold = np.partition(volume[codes], len(codes) - k)[len(codes) - k]
        codes = codes[volume[codes] >= threshold]
    return codes[np.lexsort((codes, -volume[codes]))][:k]


def aggregate(t: Transfers, member_ids: list[str], max_nodes: int) -> dict:
    """Nodes (kept accounts and groups) and edges of the transfers ``t`` around ``member_ids``."""
    n_keys = len(t.keys)
    lookup = t.codes.get
    members = sorted(set(member_ids))
    member_codes = np.array(sorted({c for c in map(lookup, members) if c is not None}), np.int64)
    # Members without any transfer are not among the keys; they are drawn as single nodes.
    idle = [m for m in members if lookup(m) is None]

    if len(t.src) and (t.src.min() < 0 or t.dst.min() < 0):  # a transfer without an account id
        ok = (t.src >= 0) & (t.dst >= 0)
        t = dataclasses.replace(
            t, src=t.src[ok], dst=t.dst[ok], value=t.value[ok], ts=t.ts[ok], channel=t.channel[ok]
        )
    volume = np.bincount(t.src, t.value, n_keys) + np.bincount(t.dst, t.value, n_keys)
    touched = np.zeros(n_keys, bool)
    touched[t.src] = True
    touched[t.dst] = True
    is_member = np.zeros(n_keys, bool)
    is_member[member_codes] = True
    member_budget, other_budget = budgets(len(members), max_nodes)
    kept_members = _top(member_codes, volume, member_budget - len(idle))
    others = np.flatnonzero(touched & ~is_member)
    kept_others = _top(others, volume, other_budget)
    kept = np.sort(np.concatenate((kept_members, kept_others)))

    # Node index of every code: kept accounts first (in id order), then one group per kind.
    node_of = np.full(n_keys, -1, np.int64)
    node_of[kept] = np.arange(len(kept))
    grouped = np.flatnonzero((touched | is_member) & (node_of < 0))
    n_types = len(t.types)
    group_key = is_member[grouped].astype(np.int64) * n_types + t.type_of[grouped]
    group_keys = np.flatnonzero(np.bincount(group_key, minlength=2 * n_types))
    group_index = np.searchsorted(group_keys, group_key)
    node_of[grouped] = len(kept) + group_index
    group_size = np.bincount(group_index, minlength=len(group_keys))
    group_volume = np.bincount(group_index, volume[grouped], len(group_keys))

    # Edges between nodes: one per direction and pair.
    n_nodes = len(kept) + len(group_keys)
    pair = node_of[t.src] * n_nodes + node_of[t.dst]
    # At most a few hundred nodes: the pairs are counted in a dense table, no sort needed.
    pair_count = np.bincount(pair, minlength=n_nodes * n_nodes)
    pairs = np.flatnonzero(pair_count)
    slot = np.zeros(n_nodes * n_nodes, np.int64)
    slot[pairs] = np.arange(len(pairs))
    edge = slot[pair]
    count = pair_count[pairs]
    amount = np.bincount(edge, t.value, len(pairs))
    ts = t.ts.astype("datetime64[us]").astype(np.int64)
    first = np.full(len(pairs), np.iinfo(np.int64).max)
    last = np.full(len(pairs), np.iinfo(np.int64).min)
    np.minimum.at(first, edge, ts)
    np.maximum.at(last, edge, ts)
    n_channels = len(t.channels) + 1
    edge_channels = np.unique(edge * n_channels + (t.channel.astype(np.int64) + 1))

    keys = t.keys.take(kept).to_pylist() if len(kept) else []
    node_ids = keys + [
        f"group:{'lead:' if k >= n_types else ''}{t.types[k % n_types]}" for k in group_keys.tolist()
    ]
    first_ts, last_ts = _rfc3339(first), _rfc3339(last)
    channels: list[set[str]] = [set() for _ in pairs]
    for v in edge_channels.tolist():
        c = v % n_channels - 1
        if c >= 0 and t.channels[c]:
            channels[v // n_channels].add(t.channels[c])
    return {
        "kept": [(k, bool(is_member[c]), float(volume[c])) for k, c in zip(keys, kept.tolist(), strict=True)]
        + [(m, True, 0.0) for m in idle[: max(0, member_budget)]],
        "groups": [
            (node_ids[len(kept) + i], bool(k >= n_types), t.types[k % n_types], int(size), float(vol))
            for i, (k, size, vol) in enumerate(
                zip(group_keys.tolist(), group_size.tolist(), group_volume.tolist(), strict=True)
            )
        ],
        "edges": [
            {
                "source": node_ids[p // n_nodes],
                "target": node_ids[p % n_nodes],
                "amount_cad": round(a, 2),
                "count": n,
                "first_ts": f,
                "last_ts": la,
                "channels": sorted(ch),
            }
            for p, a, n, f, la, ch in zip(
                pairs.tolist(),
                amount.tolist(),
                count.tolist(),
                first_ts,
                last_ts,
                channels,
                strict=True,
            )
        ],
    }


def account_info(reader: Reader, account_ids: list[str]) -> dict[str, dict]:
    """Holder, institution, name and score of each account, from the reader's in-memory lookups."""
    accounts = {a["account_id"]: a for a in reader.lookup("accounts", "account_id", account_ids)}
    holders = [a["holder_party_id"] for a in accounts.values() if a.get("holder_party_id")]
    parties = {p["party_id"]: p for p in reader.lookup("parties", "party_id", holders)}
    scores = {s["account_id"]: s for s in reader.lookup("account_scores", "account_id", list(accounts))}
    out = {}
    for acc, a in accounts.items():
        p = parties.get(a.get("holder_party_id"), {})
        s = scores.get(acc, {})
        out[acc] = {
            **a,
            "name": p.get("name"),
            "name_native": p.get("name_native"),
            "score": s.get("score"),
            "alert": s.get("alert"),
        }
    return out


def build_network(
    reader: Reader, member_ids: list[str], *, max_nodes: int = MAX_NODES, focus: str | None = None
) -> dict:
    """Nodes and edges around ``member_ids`` (accounts): at most ``max_nodes`` accounts, the rest grouped."""
    if not reader.has("legs") or not member_ids:
        return {"nodes": [], "edges": [], "aggregated": False, "hidden_nodes": 0}
    agg = aggregate(reader.transfers(member_ids), member_ids, max_nodes)
    kept_ids = [k for k, _m, _v in agg["kept"]]
    info = account_info(reader, kept_ids)
    nodes = []
    for acc, member, volume in sorted(agg["kept"]):
        r = info.get(acc, {})
        nodes.append(
            {
                "id": acc,
                "label": r.get("name") or acc,
                "label_native": r.get("name_native"),
                "party_id": r.get("holder_party_id"),
                "institution": r.get("institution"),
                "institution_type": r.get("institution_type") or "other",
                "country": r.get("country"),
                "score": r.get("score"),
                "alert": bool(r.get("alert")) if r.get("alert") is not None else False,
                "member": member,
                "focus": acc == focus,
                "volume_cad": volume,
                "group_size": 1,
            }
        )
    hidden = 0
    for gid, member, kind, size, volume in agg["groups"]:
        hidden += size
        nodes.append(
            {
                "id": gid,
                "label": f"{size} more lead {kind} accounts" if member else f"{size} other {kind} accounts",
                "label_native": None,
                "party_id": None,
                "institution": None,
                "institution_type": kind,
                "country": None,
                "score": None,
                "alert": False,
                "member": member,
                "focus": False,
                "volume_cad": volume,
                "group_size": size,
            }
        )
    edges = [{"id": f"{e['source']}->{e['target']}", **e} for e in agg["edges"]]
    edges.sort(key=lambda e: (e["source"], e["target"]))
    return {"nodes": nodes, "edges": edges, "aggregated": hidden > 0, "hidden_nodes": hidden}
