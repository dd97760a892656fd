"""Benchmark: entity resolution of about a million party records on DuckDB.

The records come from the simulator's identity model (each person spelled by several sources in
pinyin, Cantonese, swapped order, English names, typos), replicated into distinct people who
share those names: each replica gets its own birth date, phone, e-mail, address and documents.
So names repeat across people as in a real population and only the other fields tell them apart.

    python bench/resolve.py                 # 1,000,000 records (the issue's figure)
    python bench/resolve.py --rows 100000   # a quick run while developing
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import peak_rss_gib, record  # noqa: E402
from moneytrail.resolve import resolve_workspace  # noqa: E402
from moneytrail.resolve.evaluate import evaluate_resolution  # noqa: E402
from moneytrail.resolve.synthetic import simulator_parties  # noqa: E402
from moneytrail.workspace import Workspace  # noqa: E402


def _suffix(col: pa.ChunkedArray, tag: str) -> pa.Array:
    return pc.if_else(
        pc.is_null(col), pa.scalar(None, pa.string()), pc.binary_join_element_wise(col, tag, "")
    )


def replicate(parties: pa.Table, labels: pa.Table, copies: int, seed: int) -> tuple[pa.Table, pa.Table]:
    """``copies`` copies of a world as different people with the same names."""
    rng = np.random.default_rng(seed)
    people = labels.column("person_id")
    person_codes = pc.dictionary_encode(people).combine_chunks().indices.to_numpy()
    out_p, out_l = [], []
    for r in range(copies):
        if r == 0:
            out_p.append(parties)
            out_l.append(labels)
            continue
        tag = f"-{r}"
        # one birth-date shift per person and copy, so a person's records stay consistent
        shift = rng.integers(1, 9000, size=int(person_codes.max()) + 1)[person_codes]
        born = parties.column("birth_date").cast(pa.int32()).to_numpy(zero_copy_only=False)
        born_new = pa.array(
            [None if b != b else int(b + s) for b, s in zip(born, shift, strict=True)], type=pa.int32()
        ).cast(pa.date32())
        p = parties
        for name in ("party_id", "source_id", "phone", "email", "address", "document_number"):
            p = p.set_column(p.schema.get_field_index(name), name, _suffix(p.column(name), tag))
        p = p.set_column(p.schema.get_field_index("birth_date"), "birth_date", born_new)
        lab = labels
        for name in ("party_id", "person_id"):
            lab = lab.set_column(lab.schema.get_field_index(name), name, _suffix(lab.column(name), tag))
        out_p.append(p)
        out_l.append(lab)
    return (
        pa.concat_tables([t.cast(parties.schema) for t in out_p]),
        pa.concat_tables([t.cast(labels.schema) for t in out_l]),
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000, help="party records to resolve (about)")
    ap.add_argument("--base-persons", type=int, default=25_000, help="people drawn by the simulator")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()

    t0 = time.perf_counter()
    base_persons = min(args.base_persons, max(200, args.rows // 2))
    parties, labels = simulator_parties(base_persons, args.seed)
    copies = max(1, round(args.rows / parties.num_rows))
    parties, labels = replicate(parties, labels, copies, args.seed)
    gen_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="moneytrail-bench-resolve-") as tmp:
        ws = Workspace(Path(tmp) / "ws").ensure()
        ws.write("parties", parties)
        ws.write("party_labels", labels, "truth")
        t1 = time.perf_counter()
        opts = {"threads": args.threads} if args.threads else {}
        summary = resolve_workspace(ws, progress=True, **opts)
        resolve_s = time.perf_counter() - t1
        m = evaluate_resolution(ws)
    o = m["overall"]
    ro = m["romanisation_or_order"]
    lines = [
        f"- records: {parties.num_rows:,} ({base_persons:,} simulated people x {copies} copies with distinct identifiers)",
        f"- resolve on DuckDB: {resolve_s:.1f} s ({parties.num_rows / resolve_s / 1000:.1f} k records/s); "
        f"steps {summary['durations_s']}",
        f"- pairs scored: {summary['pairs_scored']:,}; entities: {summary['entities']:,}",
        f"- pairwise precision {o['precision']:.4f}, recall {o['recall']:.4f}, F1 {o['f1']:.4f}; "
        f"B-cubed F1 {o['bcubed_f1']:.4f}",
        f"- recall on persons differing only by romanisation or order: {ro['recall']:.4f}",
        f"- generating the records: {gen_s:.1f} s; peak memory {peak_rss_gib():.1f} GiB",
    ]
    record("resolve", lines)


if __name__ == "__main__":
    main()
