"""Write docs/detectors.md from the catalogue: ``python -m moneytrail.detect.docs > docs/detectors.md``."""

from __future__ import annotations

from moneytrail.detect import evaluate
from moneytrail.detect.catalog import indicators, load_catalog

INTRO = """# Detectors

Generated from `src/moneytrail/detect/catalog/*.yaml` by `python -m moneytrail.detect.docs`; do not edit
by hand.

`moneytrail detect --workspace WS [--engine duckdb|spark] [--spark-master URL] [--only IDS] [--model FILE]`
runs every detector (or the comma-separated `--only` ids) and writes `detector_hits`: one row per
detector firing on an entity (account, party, session, property, shipment, transaction) in a window,
with the metrics that triggered it (a JSON object), up to 50 evidence transaction ids (';'-joined,
sorted) and a severity from 0 to 1 (the detector's severity scaled by the strength of the hit).
`hit_id` is an MD5 of the detector, entity, window and evidence, so the same data gives the same ids.
Detectors whose tables are absent from the workspace are skipped and listed as skipped; rows of
`screening_hits` (watch-list screening by `moneytrail resolve`, indicator W1) are copied in unchanged.
Then the scoring stage runs, when it is installed (`--no-score` skips it).

Each detector is one YAML file (id, title, indicator ids from the typology brief, sources, tables,
parameters with type, default and range, severity) beside one query module
`queries/<id>.py` whose `<id>_sql(params)` builds portable SQL (DuckDB's dialect, transpiled to Spark
by sqlglot); the engine runs it. Parameters are validated against the YAML.

## How hits are evaluated

`moneytrail evaluate --workspace WS --detectors [--json]`.
"""


LIMITS = """
## Known limits

- `cycle` finds round trips whose hops keep 90-100% of the previous amount over any relation, and
  round trips whatever the amounts over fresh relations (at most 4 transactions) between small
  accounts (at most 50 counterparties); the first or last hop may use a regular relation, but a
  ring with a regular relation inside it, or through a busy account, is missed when its amounts
  change from hop to hop. A chain that never returns to its origin is not a cycle, even when the
  source labels it one (two of AMLSim's cycle alerts stop short).
- Casino-session hits name the session's buy-in and pay-out transactions, matched at the casino's
  account by exact amount within 30 minutes of the session's start and end; a source whose cage
  times or amounts differ from the bank's leaves those hits without evidence.
- Fan-in, fan-out, scatter-gather and gather-scatter count counterparties; on worlds with many small
  legitimate merchants their precision is low, and they are meant to feed scoring, not to alert alone.
- Evidence lists are capped (50 ids, 200 for fan-in and fan-out, busiest window first), so a hit on a
  very busy account does not name every transaction.
- The record-level rules (casino sessions, property transfers, shipments) read the columns the
  canonical tables define; a source that leaves a column empty (for example `share_small_bills`)
  silences the rules that need it.
"""


def render() -> str:
    cat = load_catalog()
    out = [INTRO]
    doc = (evaluate.__doc__ or "").split("How a hit counts against truth (also in docs/detectors.md):", 1)[-1]
    out.append(doc.strip() + "\n")
    out.append("## Coverage of the indicators\n")
    out.append("| indicator | title | detectors |")
    out.append("|---|---|---|")
    for ind, spec in indicators().items():
        dets = [d.id for d in cat.values() if ind in d.indicators]
        note = ", ".join(f"`{d}`" for d in dets) if dets else f"not carried: {spec.get('why', '')}"
        out.append(f"| {ind} | {spec['title']} | {note} |")
    out.append(LIMITS)
    out.append("\n## The catalogue\n")
    for d in cat.values():
        out.append(f"### `{d.id}`: {d.title}\n")
        out.append(
            f"Indicators {', '.join(d.indicators)}; entity `{d.entity}`; tables {', '.join(f'`{t}`' for t in d.tables)}; "
            f"severity {d.severity}; sources {', '.join(d.sources) or 'none'}.\n"
        )
        if d.description:
            out.append(d.description + "\n")
        if d.parameters:
            out.append("| parameter | type | default | range | meaning |")
            out.append("|---|---|---|---|---|")
            for p in d.parameters:
                rng = f"{'' if p.min is None else p.min} .. {'' if p.max is None else p.max}".strip()
                out.append(
                    f"| `{p.name}` | {p.type} | {p.default} | {rng if rng != '..' else ''} | {p.doc} |"
                )
            out.append("")
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
