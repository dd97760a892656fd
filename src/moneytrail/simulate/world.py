"""Build and write a whole world: the legitimate population, the laundering networks, the truth.

>>> from moneytrail.simulate import simulate
>>> summary = simulate("tiny", seed=7, out="world")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import json
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import pyarrow as pa

from moneytrail import __version__
from moneytrail.errors import ConfigError
from moneytrail.fx import cad_rate
from moneytrail.simulate import writer as W
from moneytrail.simulate.book import US_PER_DAY, Book
from moneytrail.simulate.channels import Flows
from moneytrail.simulate.columns import ids, nullable_ids, strings, timestamps
from moneytrail.simulate.identity import FastRandom, PersonFactory
from moneytrail.simulate.interventions import Interventions
from moneytrail.simulate.legit_bulk import BUYIN_FORMS, SESSION_FORMS, bulk_memos
from moneytrail.simulate.legit_world import build_institutions, build_special_legit
from moneytrail.simulate.network import NetworkBuilder
from moneytrail.simulate.params import apply_overrides, load_preset, validate
from moneytrail.simulate.population import BulkPlan, PopulationBuild, person_count

TABLES = (
    "parties",
    "accounts",
    "transactions",
    "casino_sessions",
    "properties",
    "property_transfers",
    "shipments",
    "links",
)


def resolve_params(
    preset: str, *, scale: float | None = None, days: int | None = None, overrides: list[str] | None = None
) -> dict:
    """The parameters of ``preset`` with the command-line options applied and checked."""
    params = apply_overrides(load_preset(preset), overrides or [])
    if scale is not None:
        params["scale"] = scale
    if days is not None:
        params["days"] = days
    params.setdefault("scale", 1.0)
    validate(params)
    return params


def _rows_per_day(p: dict, scale: float) -> float:
    lg = p["legit"]
    h = lg["households"] * scale
    return (
        h
        * (
            lg["bill_rate"]
            + lg["etransfer_rate"]
            + lg["atm_rate"]
            + 1 / lg["salary_period_days"]
            + 2 * lg["remit_rate"] * lg["share_chinese"]
        )
        + lg["businesses"]
        * scale
        * (lg["cash_business_share"] * lg["cash_deposit_rate"] + lg["supplier_rate"])
        + 2
        * scale
        * (lg["recreational_gamblers"] * lg["recreational_rate"] + lg["vip_gamblers"] * lg["vip_rate"])
    )


def _without_cycle_collection(fn):
    """Run ``fn`` with Python's cycle collector paused: a world is millions of small objects
    that live until it is written and form no cycles, so the collector's passes over them are
    pure cost (several per cent of the run)."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return run


@_without_cycle_collection
def simulate(
    preset: str | dict,
    seed: int,
    out: str | Path,
    *,
    scale: float | None = None,
    days: int | None = None,
    overrides: list[str] | None = None,
    progress: bool = False,
    parallel: bool = True,
) -> dict:
    """Generate a world and write it to ``out``; returns the summary also stored in world.json.

    ``parallel`` builds the population in a second process while the networks are built; the
    files are byte-identical either way.
    """
    if seed is None or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"The option '--seed' must be a non-negative whole number. Got {seed!r} instead.")
    params = (
        preset
        if isinstance(preset, dict)
        else resolve_params(preset, scale=scale, days=days, overrides=overrides)
    )
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    scale = float(params.get("scale", 1.0))
    n_days = int(params["days"])
    start = (
        params["start"]
        if isinstance(params["start"], dt.date)
        else dt.date.fromisoformat(str(params["start"]))
    )
    t0 = (start - dt.date(1970, 1, 1)).days * US_PER_DAY
    legit = dict(params["legit"])
    # foreign legs use the project's fixed reference rates, so amount_cad agrees with ingest
    legit["cny_rate"] = cad_rate("CNY")
    legit["usd_rate"] = cad_rate("USD")
    legit["casino_weights"] = params["casino_weights"]
    iv = Interventions(params["interventions"])
    legit.update(iv.legit_params(t0))
    seeds = np.random.SeedSequence(seed).spawn(4)
    # the networks and their flows draw mostly one scalar at a time: served from blocks
    rng_pop, rng_net, rng_bulk_seed = (
        np.random.default_rng(seeds[0]),
        FastRandom(np.random.default_rng(seeds[1])),
        seeds[2],
    )

    book = Book()
    pf = PersonFactory(FastRandom(rng_pop))
    inst = build_institutions(book, pf, legit, t0)
    # the bulk memos are coded before the book is shared with the population process
    bulk_memos(book)
    chunk_days = max(
        1, min(31, int(params.get("chunk_rows", 1_500_000) / max(1.0, _rows_per_day(params, scale))))
    )
    plan = BulkPlan(
        chunks=tuple((d0, min(chunk_days, n_days - d0)) for d0 in range(0, n_days, chunk_days)),
        start_us=t0,
        start_doy=(dt.date(1970, 1, 1) + dt.timedelta(days=t0 // US_PER_DAY)).timetuple().tm_yday - 1,
        start_dow=(t0 // US_PER_DAY + 3) % 7,
        seed=rng_bulk_seed,
    )
    # the population (then the bulk transactions) is built beside the networks (own stream, own
    # block of person ids)
    population = PopulationBuild(book, inst, legit, scale, t0, seeds[3], pf.count, plan, parallel=parallel)
    try:
        pf.count += person_count(legit, scale)
        build_special_legit(book, pf, inst, legit, scale, t0, n_days, rng_pop)
        nb = NetworkBuilder(book, pf, rng_net, t0)
        net_params = {**legit, "casinos": params["casinos"]}
        networks = []
        product_kg = {}
        for nid, cfg in params["networks"].items():
            net = nb.build(nid, cfg, scale if cfg.get("scale_members", True) else 1.0)
            flows = Flows(book, net, inst, net_params, iv, rng_net, t0, n_days, scale, pf)
            flows.run()
            networks.append(net)
            product_kg[nid] = round(flows.product_kg, 3)
    except BaseException:
        population.cancel()
        raise
    try:
        pop = population.join(book)
        counts = _write(book, population.chunks(book, pop), params, out, t0, plan, progress)
    except BaseException:
        population.cancel()
        raise
    summary = {
        "preset": params.get("preset"),
        "seed": seed,
        "moneytrail_version": __version__,
        "start": str(start),
        "days": n_days,
        "scale": scale,
        "counts": counts,
        "networks": [n.nid for n in networks],
        # product shipped per network: the one quantity no table carries (weights include cover cargo)
        "product_kg": product_kg,
        "parameters": params,
    }
    (out / "world.json").write_text(
        json.dumps(summary, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
    )
    return summary


def _book_sessions(book: Book) -> dict[str, np.ndarray]:
    c = book.sessions.cols
    n = len(book.sessions)
    if n == 0:
        return {}
    return {
        "party": np.asarray(c["party"], np.int64),
        "casino_name": np.asarray(c["casino"], dtype=object),
        "start": np.asarray(c["start"], np.int64),
        "end": np.asarray(c["end"], np.int64),
        "buy_in": np.asarray(c["buy_in"], np.float64),
        "buy_in_form": np.asarray([BUYIN_FORMS.index(f) for f in c["buy_in_form"]], np.int64),
        "wagered": np.asarray(c["wagered"], np.float64),
        "cash_out": np.asarray(c["cash_out"], np.float64),
        "cash_out_form": np.asarray([SESSION_FORMS.index(f) for f in c["cash_out_form"]], np.int64),
        "share_small": np.asarray([np.nan if s is None else s for s in c["share_small"]], np.float64),
        "payee": np.asarray([-1 if p is None else p for p in c["payee"]], np.int64),
        "delivered_by": np.asarray([-1 if p is None else p for p in c["delivered_by"]], np.int64),
        "indicators": np.asarray(c["indicators"], dtype=object),
        "network": np.asarray(c["network"], dtype=object),
    }


def _write(
    book: Book,
    bulk,
    params: dict,
    out: Path,
    t0: int,
    plan: BulkPlan,
    progress: bool,
) -> dict:
    """Write every table: the ``bulk`` chunks of ``plan`` merged with the book's transactions,
    then the book's other records and the truth."""
    casinos = list(params["casinos"])
    counts: dict[str, int] = {}
    bt = book.txn_arrays()
    order = np.argsort(bt["ts"], kind="stable")
    bt = {k: v[order] for k, v in bt.items()}
    bs = _book_sessions(book)
    if bs:
        o = np.argsort(bs["start"], kind="stable")
        bs = {k: v[o] for k, v in bs.items()}
    account_ids = ids("A", np.arange(len(book.accounts)), 8)
    tw = W.TableWriter(out, "transactions")
    lw = W.TableWriter(out, "transaction_labels", "truth")
    sw = W.TableWriter(out, "casino_sessions")
    session_labels: list[tuple[str, str, str]] = []
    next_txn, next_sess = 0, 0
    # one thread per file: each writer still sees its chunks in order (we wait before the next)
    pool = ThreadPoolExecutor(max_workers=2)
    pending: list = []
    bar = _progress(progress)
    with bar if bar is not None else nullcontext():
        task = bar.add_task("simulating", total=len(plan.chunks)) if bar is not None else None
        for k, ((d0, dn), (txns, sess)) in enumerate(zip(plan.chunks, bulk, strict=True)):
            lo, hi = t0 + d0 * US_PER_DAY, t0 + (d0 + dn) * US_PER_DAY
            if k == len(plan.chunks) - 1:
                hi = np.iinfo(np.int64).max
            a, b = np.searchsorted(bt["ts"], [lo, hi])
            merged = _merge(txns, {c: v[a:b] for c, v in bt.items()})
            tcols, lcols = W.transactions_columns(book, merged, next_txn, account_ids)
            next_txn += len(merged["ts"])
            scols, next_sess = _session_columns(sess, bs, lo, hi, next_sess, casinos, session_labels)
            # Parquet encoding releases the GIL: write this chunk while the next one is generated
            for f in pending:
                f.result()
            pending = [
                pool.submit(_write_chunk, ((tw, tcols),)),
                pool.submit(_write_chunk, ((lw, lcols), (sw, scols))),
            ]
            if bar is not None:
                bar.update(task, advance=1)
    for kind, sid, inds, nid in session_labels:
        book.label(kind, sid, inds.split(";"), nid, "placement")
    # the record tables are encoded in the writer threads too, beside the last chunk
    tables = {}
    for name in W.RECORD_TABLES:
        area = "truth" if name.endswith("labels") else None
        tables[name] = pool.submit(W.write_table, out, name, W.record_columns(book, name), area)
    networks = _networks_columns(book, params, bt)
    for f in pending:
        f.result()
    counts["transactions"] = tw.close()
    lw.close()
    counts["casino_sessions"] = sw.close()
    counts["networks"] = W.write_table(out, "networks", networks, "truth")
    for name, f in tables.items():
        rows = f.result()
        if name not in ("party_labels", "account_labels"):  # the same rows as parties and accounts
            counts[name] = rows
    pool.shutdown()
    return counts


def _merge(bulk: dict[str, np.ndarray], booked: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Bulk rows and the book's rows of one chunk in time order; both come sorted by time (the
    bulk chunk by :func:`~moneytrail.simulate.legit_bulk.sorted_chunk`), so the book's rows are
    inserted, at equal times after the bulk rows, without sorting the chunk again.

    Bulk rows carry no truth: the truth columns are zero except where the book's rows land.
    """
    n_bulk, n_book = len(bulk.get("ts", ())), len(booked["ts"])
    # where each book row lands: after the bulk rows up to its time and the book rows before it
    landed = np.arange(n_book)
    if n_bulk:
        landed += np.searchsorted(bulk["ts"], booked["ts"], side="right")
    from_bulk = np.ones(n_bulk + n_book, bool)
    from_bulk[landed] = False
    merged = {}
    for col, values in booked.items():
        if col == "ref":
            continue
        if col in bulk:
            out = np.empty(n_bulk + n_book, bulk[col].dtype)
            out[from_bulk] = bulk[col]
        else:
            out = np.zeros(n_bulk + n_book, values.dtype)
        out[landed] = values
        merged[col] = out
    return merged


def _write_chunk(parts) -> None:
    for writer, cols in parts:
        writer.write(cols)


def _session_columns(
    sess: dict, bs: dict, lo: int, hi: int, first: int, casinos: list[str], labels: list
) -> tuple[dict, int]:
    """The casino sessions of one chunk (bulk and book, by start time) and the next free id."""
    n_bulk = len(sess["start"])
    if bs:
        a, b = np.searchsorted(bs["start"], [lo, hi])
    else:
        a = b = 0
    nb = b - a
    cat = {}
    for col in (
        "start",
        "end",
        "buy_in",
        "wagered",
        "cash_out",
        "share_small",
        "payee",
        "delivered_by",
        "party",
        "buy_in_form",
        "cash_out_form",
    ):
        extra = bs[col][a:b] if nb else np.empty(0, sess[col].dtype)
        cat[col] = np.concatenate([sess[col], extra])
    casino_idx = np.concatenate(
        [
            sess["casino"],
            np.asarray([casinos.index(c) for c in bs["casino_name"][a:b]], np.int64)
            if nb
            else np.empty(0, np.int64),
        ]
    )
    inds = list(np.full(n_bulk, None, dtype=object)) + (list(bs["indicators"][a:b]) if nb else [])
    nets = list(np.full(n_bulk, None, dtype=object)) + (list(bs["network"][a:b]) if nb else [])
    o = np.argsort(cat["start"], kind="stable")
    n = len(o)
    sid = ids("S", np.arange(first, first + n), 9)
    share = cat["share_small"][o]
    cols = {
        "session_id": sid,
        "party_id": ids("P", cat["party"][o], 8),
        "casino": strings(casino_idx[o] + 1, [None, *casinos]),
        "start_ts": timestamps(cat["start"][o]),
        "end_ts": timestamps(cat["end"][o]),
        "buy_in_cad": pa.array(cat["buy_in"][o]),
        "buy_in_form": strings(cat["buy_in_form"][o] + 1, [None, *BUYIN_FORMS]),
        "wagered_cad": pa.array(cat["wagered"][o]),
        "cash_out_cad": pa.array(cat["cash_out"][o]),
        "cash_out_form": strings(cat["cash_out_form"][o] + 1, [None, *SESSION_FORMS]),
        "cheque_payee_party_id": nullable_ids("P", cat["payee"][o], 8),
        "share_small_bills": pa.array(share, mask=np.isnan(share)),
        "delivered_by_party_id": nullable_ids("P", cat["delivered_by"][o], 8),
        "source": strings(np.ones(n, np.int32), [None, "casino"]),
        "source_id": sid,
    }
    sid_list = sid.to_pylist() if nb else []
    if nb:
        for pos, src in enumerate(o):
            if src >= n_bulk and inds[src]:
                labels.append(("session", sid_list[pos], inds[src], nets[src]))
    return cols, first + n


def _networks_columns(book: Book, params: dict, bt: dict[str, np.ndarray]) -> dict[str, pa.Array]:
    """One truth row per network, from the book (every laundering transaction is a book row, so
    nothing needs reading back from the files just written)."""
    from moneytrail.simulate.book import STAGE, _indicator_key

    nets = list(params["networks"])
    codes = book.network_ids.index
    placed = bt["laundering"] & (bt["stage"] == STAGE["placement"])
    laundered = np.bincount(
        bt["network"][placed], weights=bt["amount_cad"][placed], minlength=len(book.network_ids.items)
    )
    inds: dict[str, set] = {n: set() for n in nets}
    has = bt["indicators"] != 0
    for net_code, ind_code in set(
        zip(bt["network"][has].tolist(), bt["indicators"][has].tolist(), strict=True)
    ):
        nid = book.network_ids.items[net_code]
        if nid in inds:
            inds[nid].update(book.indicators.items[ind_code].split(";"))
    el = book.entity_labels.cols
    for nid, s in zip(el.get("network_id", []), el.get("indicator_ids", []), strict=True):
        if nid in inds and s:
            inds[nid].update(s.split(";"))
    members = {n: 0 for n in nets}
    for nw in book.parties.cols["network"]:
        if nw in members:
            members[nw] += 1
    return {
        "network_id": pa.array(nets, type=pa.string()),
        "style": pa.array([params["networks"][n].get("style") for n in nets], type=pa.string()),
        "member_count": pa.array([members[n] for n in nets], type=pa.int64()),
        "indicator_ids": pa.array(
            [";".join(sorted(inds[n], key=_indicator_key)) for n in nets], type=pa.string()
        ),
        "laundered_cad": pa.array(
            [round(float(laundered[codes[n]]) if n in codes else 0.0, 2) for n in nets], type=pa.float64()
        ),
    }


def _progress(enabled: bool):
    if not enabled:
        return None
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
    )
