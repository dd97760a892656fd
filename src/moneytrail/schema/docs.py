"""Render ``docs/data-model.md`` from the schema declaration.

Run ``python -m moneytrail.schema.docs > docs/data-model.md``; a test checks the file is current.
"""

from __future__ import annotations

from moneytrail.schema import catalog


def data_model_markdown() -> str:
    lines = [
        "# Data model",
        "",
        "Generated from `src/moneytrail/schema/canonical.yaml` by `python -m moneytrail.schema.docs`;",
        "do not edit by hand. Tables are Parquet files under the workspace's `tables/` folder.",
        "",
    ]
    sections = (
        ("input", "Input tables (loaded by `moneytrail ingest`)"),
        ("result", "Result tables"),
        ("truth", "Truth tables (workspace `truth/` area; read only by `train` and `evaluate`)"),
    )
    for kind, heading in sections:
        lines += [f"## {heading}", ""]
        for t in catalog().values():
            if t.kind != kind:
                continue
            stage = f" Written by `{t.stage}`." if t.stage else ""
            lines += [f"### `{t.name}`", "", f"{t.doc}{stage}", ""]
            lines += ["| column | type | required | rules | description |", "|---|---|---|---|---|"]
            for c in t.columns:
                rules = []
                if c.key:
                    rules.append("unique per source")
                if c.values:
                    rules.append("one of " + ", ".join(f"`{v}`" for v in c.values))
                if c.amount:
                    rules.append("finite, >= 0")
                if c.currency:
                    rules.append("ISO 4217 code")
                if c.ref:
                    rules.append(f"refers to `{c.ref}`")
                req = "yes" if c.required else ""
                lines.append(f"| `{c.name}` | {c.type} | {req} | {'; '.join(rules)} | {c.doc} |")
            lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(data_model_markdown(), end="")
