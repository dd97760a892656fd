"""Resolution quality against identity truth (``party_labels.person_id``).

Pairwise precision, recall and F1 count record pairs: a pair is predicted when both records are in
one entity and true when both belong to one person. B-cubed precision and recall average, per
record, the share of its entity that is its person and of its person that is in its entity.
Exact clusters is the share of persons whose records form exactly one entity.

Every metric is given overall and per name-variant group, where a pair counts for a group when
either record carries one of the group's variants; ``romanisation_or_order`` restricts to persons
whose records differ only by romanisation or name order.
"""

from __future__ import annotations

import pandas as pd

from moneytrail.errors import WorkspaceError
from moneytrail.workspace import Workspace

GROUPS = {
    "romanisation": ("pinyin", "cantonese", "native"),
    "order_swapped": ("order_swapped",),
    "english_name": ("english_name",),
    "typo": ("typo",),
}
# persons whose records differ only by romanisation or order (the 0.9 recall target)
ROMANISATION_OR_ORDER = ("exact", "pinyin", "cantonese", "native", "order_swapped")


def _c2(n: pd.Series) -> pd.Series:
    return n * (n - 1) // 2


def _pairs_with(df: pd.DataFrame, keys: list[str], flag: str | None) -> int:
    """Pairs inside each ``keys`` group; with ``flag``, only pairs where a record has the flag."""
    g = df.groupby(keys, sort=False)
    n = g.size()
    if flag is None:
        return int(_c2(n).sum())
    m = n - g[flag].sum()
    return int((_c2(n) - _c2(m)).sum())


def _prf(tp: int, pred: int, true: int) -> dict:
    p = tp / pred if pred else 1.0
    r = tp / true if true else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(f, 4),
        "true_pairs": true,
        "predicted_pairs": pred,
        "correct_pairs": tp,
    }


def pairwise(df: pd.DataFrame, flag: str | None = None) -> dict:
    """Pairwise metrics of a frame with entity_id and person_id columns."""
    return _prf(
        _pairs_with(df, ["entity_id", "person_id"], flag),
        _pairs_with(df, ["entity_id"], flag),
        _pairs_with(df, ["person_id"], flag),
    )


def cluster_metrics(df: pd.DataFrame) -> dict:
    """B-cubed precision/recall/F1 and the share of persons resolved to exactly one entity."""
    both = df.groupby(["entity_id", "person_id"]).size().rename("both")
    ent = df.groupby("entity_id").size().rename("ent")
    per = df.groupby("person_id").size().rename("per")
    x = df.join(both, on=["entity_id", "person_id"]).join(ent, on="entity_id").join(per, on="person_id")
    p = float((x["both"] / x["ent"]).mean()) if len(x) else 1.0
    r = float((x["both"] / x["per"]).mean()) if len(x) else 1.0
    # a person is resolved exactly when all its records are in one entity holding nothing else
    by_person = x.groupby("person_id", sort=False)
    exact = (by_person["entity_id"].nunique() == 1) & (by_person["ent"].first() == by_person.size())
    return {
        "bcubed_precision": round(p, 4),
        "bcubed_recall": round(r, 4),
        "bcubed_f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "exact_clusters": round(float(exact.mean()) if len(exact) else 1.0, 4),
        "persons": int(df["person_id"].nunique()),
        "entities": int(df["entity_id"].nunique()),
    }


def frame(ws: Workspace) -> pd.DataFrame:
    """Resolved entities joined to the identity truth (records without truth are left out)."""
    if not ws.has("resolved_entities"):
        raise WorkspaceError(
            f"The workspace {ws.root} has no table 'resolved_entities'; run `moneytrail resolve` first."
        )
    if not ws.has("party_labels", "truth"):
        raise WorkspaceError(
            f"The workspace {ws.root} has no identity truth (truth/party_labels); "
            "resolution can only be evaluated on a simulated or labelled world."
        )
    ent = ws.read("resolved_entities").select(["party_id", "entity_id"]).to_pandas()
    lab = ws.read("party_labels", "truth").select(["party_id", "person_id", "name_variant"]).to_pandas()
    df = ent.merge(lab, on="party_id", how="inner")
    df = df[df["person_id"].notna()].copy()
    df["name_variant"] = df["name_variant"].fillna("exact")
    return df


def evaluate_frame(df: pd.DataFrame) -> dict:
    """All metrics of a joined frame (party_id, entity_id, person_id, name_variant)."""
    out: dict = {"records": len(df), "overall": {**pairwise(df), **cluster_metrics(df)}, "by_variant": {}}
    for group, variants in GROUPS.items():
        flag = f"_is_{group}"
        df[flag] = df["name_variant"].isin(variants)
        if df[flag].any():
            out["by_variant"][group] = pairwise(df, flag)
        df = df.drop(columns=flag)
    only = (
        df["name_variant"].isin(ROMANISATION_OR_ORDER).groupby(df["person_id"], sort=False).transform("all")
    )
    subset = df[only]
    varied = subset.groupby("person_id")["name_variant"].transform("nunique") > 1
    out["romanisation_or_order"] = pairwise(subset[varied]) if varied.any() else pairwise(subset)
    return out


def evaluate_resolution(ws: Workspace) -> dict:
    """Pairwise and cluster metrics of ``resolved_entities`` against ``party_labels``."""
    return evaluate_frame(frame(ws))


def render(metrics: dict, console) -> None:
    """Print the metrics as tables."""
    from rich.table import Table

    o = metrics["overall"]
    t = Table(title=f"Entity resolution ({metrics['records']:,} labelled records)")
    for c in ("group", "precision", "recall", "F1", "true pairs", "predicted pairs"):
        t.add_column(c, justify="left" if c == "group" else "right")

    def row(name: str, m: dict) -> None:
        t.add_row(
            name,
            f"{m['precision']:.3f}",
            f"{m['recall']:.3f}",
            f"{m['f1']:.3f}",
            f"{m['true_pairs']:,}",
            f"{m['predicted_pairs']:,}",
        )

    row("overall", o)
    for g, m in metrics["by_variant"].items():
        row(f"pairs with {g.replace('_', ' ')}", m)
    row("persons differing only by romanisation/order", metrics["romanisation_or_order"])
    console.print(t)
    console.print(
        f"B-cubed precision {o['bcubed_precision']:.3f}, recall {o['bcubed_recall']:.3f}, F1 {o['bcubed_f1']:.3f}; "
        f"{o['exact_clusters']:.1%} of {o['persons']:,} persons resolved exactly ({o['entities']:,} entities)."
    )
