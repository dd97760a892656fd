"""The calibration and volume report of a world, and the displacement between two worlds.

Data first: :func:`report_data` returns plain dicts and lists (calibration figures, laundered
volume by channel and month, the books of each network, counts); :func:`write_report` renders them
to ``DIR/report/`` as calibration.csv, report.md and PNG plots; :func:`displacement` compares two
worlds (for example bc-2015 and bc-2018) channel by channel.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from moneytrail.simulate.calibration import measure, write_csv
from moneytrail.simulate.ledger import books

# where drug cash first enters the financial system, by the transaction's truth typology
PLACEMENT_CHANNELS = {
    "casino_buy_in": "casino cash",
    "casino_draft": "casino bank drafts",
    "msb_deposit": "underground bank (MSB front)",
    "structured_deposit": "bank deposits",
    "layer_funding": "bank deposits",
    "t2_funding": "bank deposits",
    "scatter": "bank deposits",
    "online_funding": "bank deposits",
    "draft_funding": "bank deposits",
    "property_funding": "real estate",
    "lender_funding": "real estate",
    "shell_deposit": "trade",
    "card_paydown": "cards",
    "car_funding": "vehicles",
}


def channel_case_sql(column: str = "l.typology") -> str:
    """SQL CASE mapping a typology to its placement channel (pure)."""
    whens = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in PLACEMENT_CHANNELS.items())
    return f"(CASE {column} {whens} ELSE NULL END)"


def volume_by_channel_month_sql(out: str) -> str:
    """Laundered cash placed per channel and month (pure)."""
    return f"""
        SELECT strftime(date_trunc('month', t.ts), '%Y-%m') AS month, {channel_case_sql()} AS channel,
               sum(t.amount_cad) AS cad
        FROM '{out}/transactions.parquet' t JOIN '{out}/truth/transaction_labels.parquet' l USING (txn_id)
        WHERE l.is_laundering AND l.stage = 'placement' AND {channel_case_sql()} IS NOT NULL
          AND NOT (l.typology = 'casino_buy_in' AND t.channel <> 'casino_buy_in')
        GROUP BY ALL ORDER BY month, channel
    """


def report_data(out: str | Path) -> dict:
    """Everything the report shows, as plain data."""
    out_p = Path(out)
    world = json.loads((out_p / "world.json").read_text(encoding="utf-8"))
    con = duckdb.connect()
    vol = [
        {"month": m, "channel": c, "cad": round(float(v), 2)}
        for m, c, v in con.execute(volume_by_channel_month_sql(out_p.as_posix())).fetchall()
    ]
    totals: dict[str, float] = {}
    for r in vol:
        totals[r["channel"]] = totals.get(r["channel"], 0.0) + r["cad"]
    years = world["days"] / 365.0
    return {
        "preset": world.get("preset"),
        "seed": world.get("seed"),
        "start": world.get("start"),
        "days": world["days"],
        "scale": world.get("scale"),
        "counts": world.get("counts", {}),
        "calibration": measure(out_p),
        "volume_by_channel_month": vol,
        "annual_by_channel": {k: round(v / years, 2) for k, v in sorted(totals.items())},
        "books": [
            {k: (round(v, 2) if isinstance(v, float) else v) for k, v in r.items()} for r in books(out_p)
        ],
    }


def displacement(a: dict, b: dict) -> list[dict]:
    """Annual laundered volume per channel in world ``a`` and ``b``, the change and each one's share."""
    ca, cb = a["annual_by_channel"], b["annual_by_channel"]
    ta, tb = sum(ca.values()) or 1.0, sum(cb.values()) or 1.0
    rows = []
    for ch in sorted(set(ca) | set(cb)):
        va, vb = ca.get(ch, 0.0), cb.get(ch, 0.0)
        rows.append(
            {
                "channel": ch,
                "a_per_year": round(va, 2),
                "b_per_year": round(vb, 2),
                "change": round(vb - va, 2),
                "a_share": round(va / ta, 4),
                "b_share": round(vb / tb, 4),
            }
        )
    return rows


def _money(x: float | None) -> str:
    if x is None:
        return ""
    ax = abs(x)
    if ax >= 1e9:
        return f"{x / 1e9:,.2f} bn"
    if ax >= 1e6:
        return f"{x / 1e6:,.2f} M"
    return f"{x:,.0f}"


def render_markdown(data: dict, compare: tuple[str, dict] | None = None) -> str:
    """The human-readable report (Markdown)."""
    lines = [
        f"# Simulated world: preset {data['preset']}, seed {data['seed']}",
        "",
        f"{data['days']} days from {data['start']}, scale {data['scale']}. "
        + ", ".join(f"{k}: {v:,}" for k, v in sorted(data["counts"].items())),
        "",
        "## Calibration",
        "",
        "Each published figure beside the world's value. Covered figures are the ones this preset is calibrated to.",
        "",
        "| figure | what | target | measured | ratio | covered |",
        "|---|---|---:|---:|---:|:---:|",
    ]
    for r in data["calibration"]:
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}"
        lines.append(
            f"| {r['figure_id']} | {r['what']} | {_money(r['target'])} | {_money(r['measured'])} | {ratio} | {'yes' if r['covered'] else ''} |"
        )
    lines += ["", "## Where the drug money went (books per network, CAD)", ""]
    lines += [
        "| network | revenue | placed | held | fees | sent back | unexplained |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for b in data["books"]:
        lines.append(
            f"| {b['network_id']} | {_money(b['revenue'])} | {_money(b['placed'])} | {_money(b['held'])} | {_money(b['fees'])} | {_money(b['sent_back'])} | {b['unexplained']:.2f} |"
        )
    lines += [
        "",
        "## Laundered cash placed, by channel (per year)",
        "",
        "| channel | CAD per year |",
        "|---|---:|",
    ]
    for ch, v in data["annual_by_channel"].items():
        lines.append(f"| {ch} | {_money(v)} |")
    months = sorted({r["month"] for r in data["volume_by_channel_month"]})
    chans = sorted({r["channel"] for r in data["volume_by_channel_month"]})
    cell = {(r["month"], r["channel"]): r["cad"] for r in data["volume_by_channel_month"]}
    lines += [
        "",
        "## By channel and month (CAD)",
        "",
        "| month | " + " | ".join(chans) + " |",
        "|---|" + "---:|" * len(chans),
    ]
    for m in months:
        lines.append(f"| {m} | " + " | ".join(_money(cell.get((m, c), 0.0)) for c in chans) + " |")
    if compare:
        other_name, rows = compare
        lines += ["", f"## Displacement: this world against {other_name} (per year)", ""]
        lines += [
            "| channel | other | this | change | other share | this share |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            lines.append(
                f"| {r['channel']} | {_money(r['a_per_year'])} | {_money(r['b_per_year'])} | {_money(r['change'])} | {r['a_share']:.1%} | {r['b_share']:.1%} |"
            )
    lines += [
        "",
        "Plots: calibration.png, channels_by_month.png" + (", displacement.png" if compare else "") + ".",
    ]
    return "\n".join(lines) + "\n"


def _plots(data: dict, folder: Path, compare_rows: list[dict] | None) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []
    meta = {"Software": "moneytrail", "Creation Time": None}  # no clock in the files
    cal = [r for r in data["calibration"] if r["ratio"] is not None and r["covered"]]
    if cal:
        fig, ax = plt.subplots(figsize=(8, 0.35 * len(cal) + 1.2))
        ax.barh([r["figure_id"] for r in cal], [r["ratio"] for r in cal], color="#4472c4")
        ax.axvline(1.0, color="black", lw=1)
        ax.axvspan(0.75, 1.25, color="#cfe2cf", zorder=0)
        ax.set_xlabel("measured / target")
        ax.invert_yaxis()
        fig.tight_layout()
        fig.savefig(folder / "calibration.png", dpi=100, metadata=meta)
        plt.close(fig)
        made.append("calibration.png")
    months = sorted({r["month"] for r in data["volume_by_channel_month"]})
    chans = sorted({r["channel"] for r in data["volume_by_channel_month"]})
    if months:
        cell = {(r["month"], r["channel"]): r["cad"] / 1e6 for r in data["volume_by_channel_month"]}
        fig, ax = plt.subplots(figsize=(9, 4.5))
        bottom = [0.0] * len(months)
        for c in chans:
            vals = [cell.get((m, c), 0.0) for m in months]
            ax.bar(months, vals, bottom=bottom, label=c)
            bottom = [b + v for b, v in zip(bottom, vals, strict=True)]
        ax.set_ylabel("CAD millions placed")
        ax.legend(fontsize=8)
        ax.tick_params(axis="x", rotation=45)
        fig.tight_layout()
        fig.savefig(folder / "channels_by_month.png", dpi=100, metadata=meta)
        plt.close(fig)
        made.append("channels_by_month.png")
    if compare_rows:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        names = [r["channel"] for r in compare_rows]
        x = range(len(names))
        ax.bar([i - 0.2 for i in x], [r["a_per_year"] / 1e6 for r in compare_rows], width=0.4, label="other")
        ax.bar([i + 0.2 for i in x], [r["b_per_year"] / 1e6 for r in compare_rows], width=0.4, label="this")
        ax.set_xticks(list(x), names, rotation=45, ha="right")
        ax.set_ylabel("CAD millions per year")
        ax.legend()
        fig.tight_layout()
        fig.savefig(folder / "displacement.png", dpi=100, metadata=meta)
        plt.close(fig)
        made.append("displacement.png")
    return made


def write_report(out: str | Path, compare: str | Path | None = None, plots: bool = True) -> dict:
    """Write ``out/report/`` (calibration.csv, report.md, report.json, PNG plots); returns the data."""
    out_p = Path(out)
    data = report_data(out_p)
    folder = out_p / "report"
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(data["calibration"], folder / "calibration.csv")
    cmp = None
    if compare is not None:
        other = report_data(Path(compare))
        rows = displacement(other, data)
        data["displacement"] = {"other": str(Path(compare).name), "rows": rows}
        cmp = (f"{other['preset']} (seed {other['seed']})", rows)
    (folder / "report.md").write_text(render_markdown(data, cmp), encoding="utf-8")
    (folder / "report.json").write_text(
        json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
    )
    if plots:
        data["plots"] = _plots(data, folder, cmp[1] if cmp else None)
    return data
