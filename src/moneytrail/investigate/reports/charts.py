"""Inline SVG charts for the dossier: network picture, timeline and money-flow Sankey.

Hand-built SVG keeps each report one self-contained file (no script, font or URL to fetch), makes
the output byte-identical for the same input, and keeps names as real text, so the redaction tests
can see every label.
"""

from __future__ import annotations

import datetime as dt
import math
from xml.sax.saxutils import escape

import igraph as ig
import numpy as np

from moneytrail.investigate.reports.network import Edge, Node

CHANNEL_COLOURS = {
    "cash": "#bc4749",
    "casino_buy_in": "#e76f51",
    "casino_cash_out": "#f4a261",
    "wire": "#264653",
    "eft": "#2a9d8f",
    "etransfer": "#457b9d",
    "cheque": "#8d99ae",
    "bank_draft": "#6d597a",
    "crypto": "#e9c46a",
    "mortgage": "#588157",
    "other": "#adb5bd",
}
SUBJECT = "#9b2226"
OTHER = "#3a6ea5"
MAX_LABELS = 40
FONT = 'font-family="Noto Sans, Noto Sans CJK SC, DejaVu Sans, sans-serif"'


def _t(text: str) -> str:
    return escape(str(text))


def _short(text: str, n: int = 28) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _svg(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{_t(title)}" {FONT} font-size="11">'
        f"<title>{_t(title)}</title>" + "".join(body) + "</svg>"
    )


def network_svg(
    nodes: list[Node], edges: list[Edge], *, seed: int = 7, width: int = 900, height: int = 560
) -> str:
    """The network: subjects in red, counterparties in blue, arrows sized by value, links dashed."""
    if not nodes:
        return _svg(width, 60, ['<text x="10" y="30">No network to draw.</text>'], "Network")
    index = {n.id: i for i, n in enumerate(nodes)}
    g = ig.Graph(n=len(nodes), edges=[(index[e.source], index[e.target]) for e in edges], directed=True)
    # Kamada-Kawai from seeded starting positions is deterministic: same lead, same picture.
    start = np.random.default_rng(seed).uniform(-1, 1, size=(len(nodes), 2)).tolist()
    layout = g.as_undirected().layout_kamada_kawai(seed=start) if len(nodes) > 1 else ig.Layout([[0.0, 0.0]])
    xs, ys = [c[0] for c in layout.coords], [c[1] for c in layout.coords]
    pad = 70

    def sx(x: float) -> float:
        span = (max(xs) - min(xs)) or 1.0
        return pad + (x - min(xs)) / span * (width - 2 * pad)

    def sy(y: float) -> float:
        span = (max(ys) - min(ys)) or 1.0
        return pad / 2 + (y - min(ys)) / span * (height - pad - 40)

    pos = [(sx(x), sy(y)) for x, y in zip(xs, ys, strict=True)]
    through = [n.money_in_cad + n.money_out_cad for n in nodes]
    top = max(through) or 1.0
    radius = [6 + 14 * math.sqrt(v / top) for v in through]
    amounts = [e.amount_cad for e in edges if e.relation == "payment"]
    amax = max(amounts, default=1.0) or 1.0
    body = [
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" markerHeight="9" '
        'markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>'
    ]
    for e in edges:
        i, j = index[e.source], index[e.target]
        (x1, y1), (x2, y2) = pos[i], pos[j]
        if i == j:
            continue
        dx, dy = x2 - x1, y2 - y1
        d = math.hypot(dx, dy) or 1.0
        x1b, y1b = x1 + dx / d * radius[i], y1 + dy / d * radius[i]
        x2b, y2b = x2 - dx / d * (radius[j] + 2), y2 - dy / d * (radius[j] + 2)
        if e.relation == "payment":
            w = 1 + 5 * math.sqrt(e.amount_cad / amax)
            colour = CHANNEL_COLOURS.get(e.channel.split(";")[0], "#777")
            body.append(
                f'<line x1="{x1b:.1f}" y1="{y1b:.1f}" x2="{x2b:.1f}" y2="{y2b:.1f}" stroke="{colour}" '
                f'stroke-width="{w:.1f}" stroke-opacity="0.75" marker-end="url(#arrow)">'
                f"<title>{_t(e.channel)}: C${e.amount_cad:,.0f} in {e.count}</title></line>"
            )
        else:
            body.append(
                f'<line x1="{x1b:.1f}" y1="{y1b:.1f}" x2="{x2b:.1f}" y2="{y2b:.1f}" stroke="#999" '
                f'stroke-width="1.2" stroke-dasharray="4 3"><title>{_t(e.relation)}</title></line>'
            )
    # A big network gets labels only on subjects and the busiest nodes, or the names pile up.
    labelled = {n.id for n in nodes}
    if len(nodes) > MAX_LABELS:
        busiest = sorted(range(len(nodes)), key=lambda i: -through[i])[:MAX_LABELS]
        labelled = {nodes[i].id for i in busiest} | {n.id for n in nodes if n.role == "subject"}
    for n, (x, y), r in zip(nodes, pos, radius, strict=True):
        fill = SUBJECT if n.role == "subject" else OTHER
        shape = (
            f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}" fill="{fill}" '
            'fill-opacity="0.85" stroke="#fff"/>'
            if n.kind == "company"
            else f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{fill}" fill-opacity="0.85" stroke="#fff"/>'
        )
        label = n.name + (f" {n.name_native}" if n.name_native else "")
        body.append(shape)
        if n.id not in labelled:
            continue
        body.append(
            f'<text x="{x:.1f}" y="{y + r + 12:.1f}" text-anchor="middle" fill="#1d2733" '
            f'paint-order="stroke" stroke="#fff" stroke-width="3">{_t(_short(label, 34))}</text>'
        )
    body.append(
        f'<g font-size="10"><circle cx="12" cy="{height - 30}" r="5" fill="{SUBJECT}"/>'
        f'<text x="22" y="{height - 26}">subject</text><circle cx="82" cy="{height - 30}" r="5" fill="{OTHER}"/>'
        f'<text x="92" y="{height - 26}">counterparty</text><rect x="176" y="{height - 35}" width="10" height="10" '
        f'fill="#888"/><text x="192" y="{height - 26}">company (square)</text>'
        f'<line x1="290" y1="{height - 30}" x2="320" y2="{height - 30}" stroke="#999" stroke-dasharray="4 3"/>'
        f'<text x="326" y="{height - 26}">known link</text></g>'
    )
    return _svg(width, height, body, "Network of the lead")


def _ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = min((s * mag for s in (1, 2, 2.5, 5, 10) if s * mag >= raw), default=raw)
    start = math.ceil(lo / step) * step
    return [start + i * step for i in range(int((hi - start) / step) + 1)]


def timeline_svg(transactions: list[dict], *, width: int = 900, height: int = 260) -> str:
    """Each transaction as a stem at its time and CAD value, coloured by channel."""
    pts = [(t["ts"], float(t.get("amount_cad") or 0.0), t["channel"]) for t in transactions if t.get("ts")]
    if not pts:
        return _svg(width, 60, ['<text x="10" y="30">No transactions.</text>'], "Timeline")
    left, right, top, bottom = 70, 45, 16, 50
    t0, t1 = min(p[0] for p in pts), max(p[0] for p in pts)
    if t1 == t0:
        t0, t1 = t0 - dt.timedelta(hours=12), t1 + dt.timedelta(hours=12)
    vmax = max(p[1] for p in pts) or 1.0
    span = (t1 - t0).total_seconds()

    def x(ts: dt.datetime) -> float:
        return left + (ts - t0).total_seconds() / span * (width - left - right)

    def y(v: float) -> float:
        return height - bottom - v / vmax * (height - top - bottom)

    body = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#444"/>'
    ]
    for v in _ticks(0, vmax, 4):
        body.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{width - right}" y2="{y(v):.1f}" stroke="#eee"/>')
        body.append(
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="10">{v:,.0f}</text>'
        )
    for i in range(5):
        ts = t0 + (t1 - t0) * i / 4
        body.append(
            f'<text x="{x(ts):.1f}" y="{height - bottom + 16}" text-anchor="middle" font-size="10">'
            f"{ts.strftime('%Y-%m-%d')}</text>"
        )
    for ts, v, ch in sorted(pts, key=lambda p: (p[0], p[1])):
        c = CHANNEL_COLOURS.get(ch, "#777")
        body.append(
            f'<line x1="{x(ts):.1f}" y1="{height - bottom}" x2="{x(ts):.1f}" y2="{y(v):.1f}" stroke="{c}" '
            'stroke-opacity="0.6"/>'
        )
        body.append(
            f'<circle cx="{x(ts):.1f}" cy="{y(v):.1f}" r="3.5" fill="{c}"><title>{_t(ch)} '
            f"C${v:,.2f} {ts.isoformat()}</title></circle>"
        )
    used = sorted({p[2] for p in pts})
    lx = left
    for ch in used:
        body.append(
            f'<rect x="{lx}" y="{height - 18}" width="10" height="10" fill="{CHANNEL_COLOURS.get(ch, "#777")}"/>'
            f'<text x="{lx + 14}" y="{height - 9}" font-size="10">{_t(ch)}</text>'
        )
        lx += 18 + 7 * len(ch)
    body.append(f'<text x="12" y="{top + 8}" font-size="10" fill="#5b6b7d">C$</text>')
    return _svg(width, height, body, "Timeline of the evidence transactions")


def sankey_svg(nodes: list[Node], edges: list[Edge], *, max_flows: int = 14, width: int = 900) -> str:
    """Payers on the left, payees on the right, bands as wide as the CAD value between them."""
    flows = sorted(
        (e for e in edges if e.relation == "payment" and e.amount_cad > 0),
        key=lambda e: (-e.amount_cad, e.source, e.target),
    )
    if not flows:
        return _svg(width, 60, ['<text x="10" y="30">No money flows.</text>'], "Money flows")
    shown = flows[:max_flows]
    rest = sum(e.amount_cad for e in flows[max_flows:])
    names = {n.id: n for n in nodes}
    left_ids = sorted(
        {e.source for e in shown}, key=lambda s: -sum(e.amount_cad for e in shown if e.source == s)
    )
    right_ids = sorted(
        {e.target for e in shown}, key=lambda s: -sum(e.amount_cad for e in shown if e.target == s)
    )
    total = sum(e.amount_cad for e in shown)
    gap, top = 10, 20
    height = max(200, 30 * max(len(left_ids), len(right_ids)) + 80)
    usable = height - top - 40 - gap * max(len(left_ids), len(right_ids))
    scale = usable / total
    nodew, lx, rx = 14, 210, width - 224

    def stack(ids, side):
        pos, yy = {}, top
        for nid in ids:
            h = sum(e.amount_cad for e in shown if getattr(e, side) == nid) * scale
            pos[nid] = [yy, yy]  # [top, next free offset]
            yy += h + gap
        return pos

    lp, rp = stack(left_ids, "source"), stack(right_ids, "target")
    body = []
    for e in shown:
        h = e.amount_cad * scale
        y0, y1 = lp[e.source][1], rp[e.target][1]
        lp[e.source][1] += h
        rp[e.target][1] += h
        c = CHANNEL_COLOURS.get(e.channel.split(";")[0], "#999")
        xa, xb = lx + nodew, rx
        mid = (xa + xb) / 2
        body.append(
            f'<path d="M{xa},{y0:.1f} C{mid},{y0:.1f} {mid},{y1:.1f} {xb},{y1:.1f} L{xb},{y1 + h:.1f} '
            f'C{mid},{y1 + h:.1f} {mid},{y0 + h:.1f} {xa},{y0 + h:.1f} Z" fill="{c}" fill-opacity="0.45">'
            f"<title>{_t(e.channel)}: C${e.amount_cad:,.0f}</title></path>"
        )
    for ids, pos, x, anchor, tx in (
        (left_ids, lp, lx, "end", lx - 6),
        (right_ids, rp, rx, "start", rx + nodew + 6),
    ):
        for nid in ids:
            y0, y1 = pos[nid][0], pos[nid][1]
            n = names.get(nid)
            fill = SUBJECT if n and n.role == "subject" else OTHER
            label = _short(n.name if n else nid, 30)
            amount = (y1 - y0) / scale
            body.append(
                f'<rect x="{x}" y="{y0:.1f}" width="{nodew}" height="{max(y1 - y0, 1):.1f}" fill="{fill}"/>'
            )
            body.append(
                f'<text x="{tx}" y="{(y0 + y1) / 2 + 4:.1f}" text-anchor="{anchor}">{_t(label)} '
                f'<tspan fill="#5b6b7d" font-size="9.5">C${amount:,.0f}</tspan></text>'
            )
    if rest:
        body.append(
            f'<text x="{lx}" y="{height - 12}" font-size="10" fill="#5b6b7d">Smaller flows not drawn: '
            f"C${rest:,.0f} in {len(flows) - len(shown)} flows.</text>"
        )
    return _svg(width, height, body, "Money flows from payers to payees")


SERIES_COLOURS = ("#3a6ea5", "#e76f51", "#2a9d8f", "#6d597a")


def grouped_bars_svg(
    categories: list[str],
    series: dict[str, list[float]],
    *,
    title: str,
    unit: str = "C$",
    width: int = 900,
    height: int = 300,
) -> str:
    """Vertical bars per category, one colour per series (baseline, what-if, ...)."""
    if not categories:
        return _svg(width, 60, ['<text x="10" y="30">Nothing to plot.</text>'], title)
    left, right, top, bottom = 80, 20, 16, 70
    vmax = max((v for vals in series.values() for v in vals), default=1.0) or 1.0
    inner = width - left - right
    slot = inner / len(categories)
    bw = max(2.0, slot * 0.8 / max(1, len(series)))

    def y(v: float) -> float:
        return height - bottom - v / vmax * (height - top - bottom)

    body = [
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="#444"/>'
    ]
    for v in _ticks(0, vmax, 4):
        body.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{width - right}" y2="{y(v):.1f}" stroke="#eee"/>')
        body.append(
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="10">{v:,.0f}</text>'
        )
    for i, cat in enumerate(categories):
        x0 = left + i * slot + slot * 0.1
        for k, (name, vals) in enumerate(series.items()):
            v = vals[i]
            c = SERIES_COLOURS[k % len(SERIES_COLOURS)]
            body.append(
                f'<rect x="{x0 + k * bw:.1f}" y="{y(v):.1f}" width="{bw:.1f}" height="{height - bottom - y(v):.1f}" '
                f'fill="{c}"><title>{_t(name)}, {_t(cat)}: {unit}{v:,.0f}</title></rect>'
            )
        cx = left + (i + 0.5) * slot
        body.append(
            f'<text x="{cx:.1f}" y="{height - bottom + 14}" text-anchor="end" font-size="10" '
            f'transform="rotate(-30 {cx:.1f} {height - bottom + 14})">{_t(_short(cat, 22))}</text>'
        )
    lx = left
    for k, name in enumerate(series):
        body.append(
            f'<rect x="{lx}" y="{height - 14}" width="10" height="10" fill="{SERIES_COLOURS[k % 4]}"/>'
            f'<text x="{lx + 14}" y="{height - 5}" font-size="10">{_t(name)}</text>'
        )
        lx += 30 + 7 * len(name)
    body.append(f'<text x="8" y="{top + 8}" font-size="10" fill="#5b6b7d">{_t(unit)}</text>')
    return _svg(width, height, body, title)


def ratio_svg(rows: list[dict], *, width: int = 900) -> str:
    """Measured / published ratio per figure on a log scale, with the 1.0 line (perfect calibration)."""
    rows = [r for r in rows if r.get("ratio") not in (None, 0)]
    if not rows:
        return _svg(width, 60, ['<text x="10" y="30">No figure could be measured.</text>'], "Calibration")
    left, right, row_h, top = 260, 30, 18, 24
    height = top + row_h * len(rows) + 30
    lo, hi = -3.0, 3.0  # 1/1000 to 1000 times the published figure

    def x(ratio: float) -> float:
        v = min(max(math.log10(ratio), lo), hi)
        return left + (v - lo) / (hi - lo) * (width - left - right)

    body = []
    for e in range(int(lo), int(hi) + 1):
        xx = left + (e - lo) / (hi - lo) * (width - left - right)
        body.append(
            f'<line x1="{xx:.1f}" y1="{top - 6}" x2="{xx:.1f}" y2="{height - 24}" stroke="{"#444" if e == 0 else "#eee"}"/>'
        )
        body.append(
            f'<text x="{xx:.1f}" y="{top - 10}" text-anchor="middle" font-size="10">×{10.0**e:g}</text>'
        )
    for i, r in enumerate(rows):
        yy = top + i * row_h
        good = 0.5 <= r["ratio"] <= 2.0
        x0, x1 = sorted((x(1.0), x(r["ratio"])))
        body.append(
            f'<rect x="{x0:.1f}" y="{yy + 3}" width="{max(x1 - x0, 1.5):.1f}" height="{row_h - 6}" '
            f'fill="{"#2a9d8f" if good else "#e76f51"}"><title>{_t(r["figure_id"])}: ratio {r["ratio"]:g}</title></rect>'
        )
        body.append(
            f'<text x="{left - 6}" y="{yy + row_h - 5}" text-anchor="end" font-size="10">{_t(_short(r["figure_id"], 40))}</text>'
        )
    body.append(
        f'<text x="{left}" y="{height - 8}" font-size="10" fill="#5b6b7d">Measured in the simulated world '
        "divided by the published figure (log scale; green within a factor of 2).</text>"
    )
    return _svg(width, height, body, "Calibration against published figures")
