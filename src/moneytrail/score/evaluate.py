"""Measure scores and leads against a workspace's truth.

Account positives are accounts that sent or received a labelled (laundering) transaction; where
the truth has account labels (alert or network membership), that is reported as a second figure.
A laundering network *surfaces* when at least one of its accounts is a member of a lead.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, f1_score, precision_score, recall_score

from moneytrail.engine import make_engine
from moneytrail.errors import WorkspaceError
from moneytrail.workspace import Workspace

ALERT_BUDGET = 0.01


def positive_accounts_sql() -> str:
    """Accounts that sent or received a laundering transaction, with the typologies and networks seen."""
    return """
SELECT account_id,
  string_agg(DISTINCT typology, ';' ORDER BY typology) AS typologies,
  string_agg(DISTINCT network_id, ';' ORDER BY network_id) AS networks
FROM (
  SELECT t.src_account_id AS account_id, l.typology, l.network_id FROM transactions t
  JOIN truth_transaction_labels l ON l.txn_id = t.txn_id WHERE l.is_laundering
  UNION ALL
  SELECT t.dst_account_id, l.typology, l.network_id FROM transactions t
  JOIN truth_transaction_labels l ON l.txn_id = t.txn_id WHERE l.is_laundering
) AS p GROUP BY account_id ORDER BY account_id"""


def ranking_metrics(
    y: np.ndarray, score: np.ndarray, alert: np.ndarray, budget: float = ALERT_BUDGET
) -> dict:
    """Average precision, F1/precision/recall at the alert flag and precision at an alert budget."""
    y = np.asarray(y, dtype=int)
    score = np.asarray(score, dtype=float)
    alert = np.asarray(alert, dtype=bool)
    n = len(y)
    k = max(1, int(np.floor(budget * n)))
    top = np.argsort(-score, kind="stable")[:k]
    out = {
        "n": int(n),
        "positives": int(y.sum()),
        "average_precision": float(average_precision_score(y, score)) if 0 < y.sum() < n else None,
        "alerted": int(alert.sum()),
        "f1_at_alert": float(f1_score(y, alert, zero_division=0)),
        "precision_at_alert": float(precision_score(y, alert, zero_division=0)),
        "recall_at_alert": float(recall_score(y, alert, zero_division=0)),
        "budget": k,
        "precision_at_budget": float(y[top].mean()) if k else 0.0,
        "recall_at_budget": float(y[top].sum() / max(1, y.sum())),
    }
    return out


def evaluate_engine(eng) -> dict:
    """Metrics for an open engine that sees the score tables and the truth (``include_truth``)."""
    for name in ("account_scores", "transaction_scores"):
        if not eng.has_table(name):
            raise WorkspaceError(
                f"The workspace has no table '{name}'; run `moneytrail detect` or `moneytrail score` first."
            )
    if not eng.has_table("truth_transaction_labels"):
        raise WorkspaceError(
            "The workspace has no truth/transaction_labels; evaluation needs a labelled source."
        )
    acc = eng.query(
        "SELECT account_id, score, alert, lead_id FROM account_scores ORDER BY account_id"
    ).to_pandas()
    pos = eng.query(positive_accounts_sql(), label="positive accounts").to_pandas()
    acc = acc.merge(pos, on="account_id", how="left")
    y = acc["typologies"].notna() | acc["networks"].notna() | acc["account_id"].isin(set(pos["account_id"]))
    metrics: dict = {
        "accounts": ranking_metrics(y.to_numpy(), acc["score"].to_numpy(), acc["alert"].to_numpy())
    }

    tx = eng.query(
        "SELECT s.txn_id, s.score, s.alert, COALESCE(l.is_laundering, false) AS y FROM transaction_scores s "
        "LEFT JOIN truth_transaction_labels l ON l.txn_id = s.txn_id ORDER BY s.txn_id",
        label="transaction truth",
    ).to_pandas()
    metrics["transactions"] = ranking_metrics(
        tx["y"].to_numpy(), tx["score"].to_numpy(), tx["alert"].to_numpy()
    )

    # Recall per typology among the positive accounts, at the alert flag and within the leads.
    per: dict[str, dict] = {}
    posacc = acc[y]
    for typ in sorted({t for v in posacc["typologies"].dropna() for t in str(v).split(";") if t}):
        sel = posacc["typologies"].fillna("").str.split(";").apply(lambda s, t=typ: t in s)
        grp = posacc[sel]
        per[typ] = {
            "accounts": len(grp),
            "recall_at_alert": float(grp["alert"].mean()),
            "recall_in_leads": float(grp["lead_id"].notna().mean()),
        }
    metrics["recall_per_typology"] = per

    nets = posacc.assign(net=posacc["networks"].fillna("").str.split(";")).explode("net")
    nets = nets[nets["net"] != ""]
    if len(nets):
        surfaced = nets.groupby("net")["lead_id"].apply(lambda s: s.notna().any())
        metrics["networks"] = {
            "count": int(len(surfaced)),
            "surfaced_as_lead": int(surfaced.sum()),
            "share_surfaced": float(surfaced.mean()),
            "accounts_alerted_share": float(acc["alert"].mean()),
        }
    if eng.has_table("truth_account_labels"):
        lab = eng.query(
            "SELECT account_id, is_laundering FROM truth_account_labels WHERE is_laundering",
            label="account labels",
        ).to_pandas()
        y2 = acc["account_id"].isin(set(lab["account_id"])).to_numpy()
        if 0 < y2.sum() < len(y2):
            metrics["accounts_by_membership"] = ranking_metrics(
                y2, acc["score"].to_numpy(), acc["alert"].to_numpy()
            )
    metrics["leads"] = int(eng.scalar("SELECT COUNT(*) FROM leads")) if eng.has_table("leads") else 0
    return metrics


def evaluate_scores(ws: Workspace) -> dict:
    """Open the workspace with its truth and measure the scores (see :func:`evaluate_engine`)."""
    with make_engine("duckdb", ws, include_truth=True) as eng:
        return evaluate_engine(eng)


def render(metrics: dict, console) -> None:
    """Print the metrics as tables."""
    from rich.table import Table

    t = Table(title="Detection quality")
    t.add_column("level")
    for col in ("positives", "AP", "alerted", "F1@alert", "P@budget", "R@budget"):
        t.add_column(col, justify="right")
    for level in ("accounts", "transactions", "accounts_by_membership"):
        m = metrics.get(level)
        if not m:
            continue
        ap = m["average_precision"]
        t.add_row(
            level,
            f"{m['positives']:,}",
            "-" if ap is None else f"{ap:.3f}",
            f"{m['alerted']:,}",
            f"{m['f1_at_alert']:.3f}",
            f"{m['precision_at_budget']:.3f}",
            f"{m['recall_at_budget']:.3f}",
        )
    console.print(t)
    if metrics.get("recall_per_typology"):
        r = Table(title="Recall per typology (positive accounts)")
        for col in ("typology", "accounts", "recall@alert", "in a lead"):
            r.add_column(col)
        for typ, m in metrics["recall_per_typology"].items():
            r.add_row(typ, str(m["accounts"]), f"{m['recall_at_alert']:.3f}", f"{m['recall_in_leads']:.3f}")
        console.print(r)
    if metrics.get("networks"):
        n = metrics["networks"]
        console.print(
            f"Networks surfaced as a lead: {n['surfaced_as_lead']}/{n['count']} ({n['share_surfaced']:.1%}); "
            f"accounts alerted: {n['accounts_alerted_share']:.2%}."
        )
    console.print(f"Leads: {metrics.get('leads', 0)}")
