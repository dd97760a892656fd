"""The printable policy brief of a simulated world: calibration against the published figures and,
given a second run, the what-if comparison (where laundering moved when a policy changed).

    >>> from moneytrail.simulate.brief import write_brief
    >>> write_brief("runs/cash-cap", compare="runs/baseline")  # doctest: +SKIP
    [PosixPath('runs/cash-cap/report/brief.html'), PosixPath('runs/cash-cap/report/brief.pdf')]

The figures are those of ``moneytrail simulate --report`` (:func:`moneytrail.simulate.report.report_data`
and :func:`~moneytrail.simulate.report.displacement`), so the brief and report.md always agree.
Plots are inline SVG, so the HTML is one self-contained file; the PDF is printed by the system
Chromium.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from markupsafe import Markup

from moneytrail.errors import InputFileError

INTERVENTION_TITLES = {
    "source_of_funds_rule": "Source-of-funds declaration for casino buy-ins of C$10,000+",
    "cash_buy_in_cap": "Cap on cash buy-ins",
    "beneficial_ownership_registry": "Beneficial ownership registry for real estate",
    "precursor_controls": "Controls on precursor chemicals",
    "courier_enforcement": "Enforcement against cash couriers",
}


@dataclass
class WorldFigures:
    """What the brief shows about one simulated world: ``report_data`` plus the world's parameters."""

    summary: dict
    data: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        s = self.summary
        return f"{s.get('preset') or 'custom'} (seed {s.get('seed')}, scale {s.get('scale')})"

    @property
    def calibration(self) -> list[dict]:
        return self.data.get("calibration", [])

    @property
    def interventions(self) -> list[tuple[str, str]]:
        """(title, date) of the interventions switched on in this world."""
        out = []
        for name, cfg in sorted((self.summary.get("parameters", {}).get("interventions") or {}).items()):
            date = cfg.get("date") if isinstance(cfg, dict) else None
            if date not in (None, "", "none", "null"):
                out.append((INTERVENTION_TITLES.get(name, name.replace("_", " ")), str(date)))
        return out

    def placed_by_month(self) -> dict[str, float]:
        """Laundered cash placed per month (all channels)."""
        out: dict[str, float] = {}
        for r in self.data.get("volume_by_channel_month", []):
            out[str(r["month"])] = out.get(str(r["month"]), 0.0) + float(r["cad"] or 0.0)
        return out

    @property
    def placed_per_year(self) -> float:
        return float(sum(self.data.get("annual_by_channel", {}).values()))


def load_figures(world_dir: str | Path) -> WorldFigures:
    """The figures of the world in ``world_dir`` (a ``moneytrail simulate --out`` folder)."""
    world = Path(world_dir)
    meta = world / "world.json"
    if not meta.is_file() or not (world / "transactions.parquet").is_file():
        raise InputFileError(
            f"The folder {world} is not a simulated world (it needs world.json and transactions.parquet)."
        )
    from moneytrail.simulate.report import report_data

    return WorldFigures(json.loads(meta.read_text(encoding="utf-8")), report_data(world))


def comparison_rows(base: WorldFigures, alt: WorldFigures) -> list[dict]:
    """Laundered cash placed per channel and year in both worlds, with the change (the displacement)."""
    from moneytrail.simulate.report import displacement

    rows = displacement(base.data, alt.data)
    for r in rows:
        r["change_pct"] = None if not r["a_per_year"] else 100.0 * r["change"] / r["a_per_year"]
    return sorted(rows, key=lambda r: -(r["a_per_year"] + r["b_per_year"]))


def brief_html(base: WorldFigures, alt: WorldFigures | None = None, *, now: dt.datetime | None = None) -> str:
    """The policy brief as one self-contained HTML page; ``alt`` is the what-if world."""
    from moneytrail.investigate.reports import charts
    from moneytrail.investigate.reports.templating import render

    now = now or dt.datetime.now(dt.UTC)
    calibration = sorted(base.calibration, key=lambda r: (not r.get("covered"), r["figure_id"]))
    context: dict = {
        "base": base,
        "alt": alt,
        "generated": now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "calibration": calibration,
        "within": sum(1 for r in calibration if r.get("ratio") and 0.5 <= r["ratio"] <= 2.0),
        "measured": sum(1 for r in calibration if r.get("ratio")),
        "ratio_chart": Markup(charts.ratio_svg(calibration)),
        "books": base.data.get("books", []),
        "rows": [],
    }
    base_months = base.placed_by_month()
    if alt is None:
        annual = base.data.get("annual_by_channel", {})
        cats = sorted(annual, key=lambda c: -annual[c])
        context["channel_chart"] = Markup(
            charts.grouped_bars_svg(
                cats,
                {"placed per year": [annual[c] for c in cats]},
                title="Laundered cash placed per year, by channel",
            )
        )
        months = sorted(base_months)
        context["month_chart"] = Markup(
            charts.grouped_bars_svg(
                months, {"placed": [base_months[m] for m in months]}, title="Laundered cash placed, by month"
            )
        )
    else:
        rows = comparison_rows(base, alt)
        context["rows"] = rows
        context["channel_chart"] = Markup(
            charts.grouped_bars_svg(
                [r["channel"] for r in rows],
                {"baseline": [r["a_per_year"] for r in rows], "what-if": [r["b_per_year"] for r in rows]},
                title="Laundered cash placed per year, by channel: baseline and what-if",
            )
        )
        alt_months = alt.placed_by_month()
        months = sorted(set(base_months) | set(alt_months))
        context["month_chart"] = Markup(
            charts.grouped_bars_svg(
                months,
                {
                    "baseline": [base_months.get(m, 0.0) for m in months],
                    "what-if": [alt_months.get(m, 0.0) for m in months],
                },
                title="Laundered cash placed, by month: baseline and what-if",
            )
        )
        context["moved"] = sum(r["change"] for r in rows if r["change"] > 0)
        context["total_change"] = alt.placed_per_year - base.placed_per_year
    return render("brief.html.j2", **context)


def write_brief(
    world_dir: str | Path,
    compare: str | Path | None = None,
    out_dir: str | Path | None = None,
    *,
    pdf: bool = True,
    now: dt.datetime | None = None,
) -> list[Path]:
    """Write ``brief.html`` (and ``brief.pdf``) into ``out_dir`` (default ``WORLD/report``).

    As with ``moneytrail simulate --out WORLD --compare OTHER``, ``compare`` is the baseline and
    ``world_dir`` the what-if world; without ``compare`` the brief describes ``world_dir`` alone.
    """
    this = load_figures(world_dir)
    html = brief_html(load_figures(compare), this, now=now) if compare else brief_html(this, None, now=now)
    out = Path(out_dir) if out_dir else Path(world_dir) / "report"
    out.mkdir(parents=True, exist_ok=True)
    written = [_atomic(out / "brief.html", html.encode("utf-8"))]
    if pdf:
        from moneytrail.investigate.reports.pdf import html_to_pdf

        written.append(_atomic(out / "brief.pdf", html_to_pdf(html)))
    return written


def _atomic(path: Path, data: bytes) -> Path:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path
