"""``resolve``: link party records into entities, write them with same_as links, then screen.

A first run trains the model (saved as ``models/resolution.json``) and clusters every party. A
later run links only parties that are not yet resolved to the existing entities with the saved
model, unless ``retrain`` is set or parties were removed.
"""

from __future__ import annotations

import time

import pyarrow as pa
import pyarrow.compute as pc
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from moneytrail.engine import make_engine
from moneytrail.resolve import model as M
from moneytrail.resolve.entities import cluster, entity_table, same_as_links, strong_edges
from moneytrail.resolve.features import build_features
from moneytrail.resolve.linking import predict_new, train_and_predict
from moneytrail.schema import table
from moneytrail.workspace import RunManifest, Workspace

MODEL_FILE = "resolution.json"


class _Steps:
    """Progress on stderr, one line per step, with timings kept for the manifest."""

    def __init__(self, progress: bool):
        self.progress = (
            Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            if progress
            else None
        )
        self.durations: dict[str, float] = {}

    def __enter__(self):
        if self.progress:
            self.progress.__enter__()
        return self

    def __exit__(self, *exc):
        if self.progress:
            self.progress.__exit__(*exc)

    def step(self, name: str, description: str):
        steps = self

        class _Step:
            def __enter__(self):
                self.t0 = time.perf_counter()
                self.task = steps.progress.add_task(description, total=1) if steps.progress else None
                return self

            def __exit__(self, *exc):
                steps.durations[name] = steps.durations.get(name, 0.0) + time.perf_counter() - self.t0
                if steps.progress and self.task is not None:
                    steps.progress.update(self.task, completed=1)

        return _Step()


def resolve_workspace(
    workspace: Workspace | str,
    engine_name: str = "duckdb",
    retrain: bool = False,
    progress: bool = True,
    options: M.TrainingOptions | None = None,
    **engine_options,
) -> dict:
    """Resolve the workspace's parties into entities and screen them against its watchlist.

    Writes ``resolved_entities``, replaces the resolve ``same_as`` rows of ``links``, writes
    ``screening_hits`` when a ``watchlist`` table exists, and returns counts and timings.
    """
    ws = workspace if isinstance(workspace, Workspace) else Workspace(workspace)
    ws.require("parties")
    options = options or M.TrainingOptions()
    model_path = ws.models_dir / MODEL_FILE
    manifest = RunManifest(stage="resolve", options={"engine": engine_name, "retrain": retrain})
    manifest.add_input(ws.path("parties"), hash_files=False)
    summary: dict = {"engine": engine_name}
    engine = make_engine(engine_name, ws, **engine_options).open()
    try:
        with _Steps(progress) as steps:
            with steps.step("features", "Normalising names and identifiers"):
                features = build_features(engine)
            ids = features.column("unique_id")
            previous = ws.read("resolved_entities") if ws.has("resolved_entities") else None
            stale_model = model_path.is_file() and not M.model_is_current(model_path)
            summary["stale_model"] = stale_model
            incremental = (
                not retrain
                and previous is not None
                and model_path.is_file()
                # a model saved by an earlier version blocks on other columns: retrain it
                and not stale_model
                # a removed party means the old clusters are stale
                and pc.all(pc.is_in(previous.column("party_id"), value_set=ids)).as_py()
            )
            is_new = pc.invert(pc.is_in(ids, value_set=previous.column("party_id"))) if incremental else None
            n_new = (pc.sum(is_new).as_py() or 0) if incremental else len(ids)
            summary["mode"] = "incremental" if incremental else "full"
            summary["new_parties"] = n_new
            edges = None
            if incremental and not n_new:
                entities = previous
                links_new = None
            elif incremental:
                with steps.step("link", f"Linking {n_new:,} new parties to existing entities"):
                    edges = predict_new(
                        engine, features.filter(pc.invert(is_new)), features.filter(is_new), model_path
                    )
                with steps.step("cluster", "Merging into entities"):
                    strong = strong_edges(edges, M.CLUSTER_THRESHOLD)
                    entity_of = cluster(ids, strong, prior=previous.select(["party_id", "entity_id"]))
                    entities = entity_table(entity_of, strong, previous=previous)
                    links_new = same_as_links(strong, entity_of)
            else:
                with steps.step("train", f"Training the model and scoring pairs of {len(ids):,} parties"):
                    edges, _ = train_and_predict(engine, features, model_path, options)
                with steps.step("cluster", "Clustering into entities"):
                    strong = strong_edges(edges, M.CLUSTER_THRESHOLD)
                    entity_of = cluster(ids, strong)
                    entities = entity_table(entity_of, strong)
                    links_new = same_as_links(strong, entity_of)
            with steps.step("write", "Writing entities and links"):
                if entities is not previous:
                    engine.write_arrow("resolved_entities", entities)
                if links_new is not None:
                    _write_links(ws, engine, links_new, replace=not incremental)
            if ws.has("watchlist"):
                from moneytrail.resolve.screening import screen_workspace

                with steps.step("screen", "Screening parties against the watchlist"):
                    summary["screening"] = screen_workspace(engine, features)
        n_entities = pc.count_distinct(entities.column("entity_id")).as_py()
        summary.update(
            pairs_scored=0 if edges is None else edges.num_rows,
            parties=len(ids),
            entities=n_entities,
            linked_parties=int(pc.sum(pc.greater(entities.column("entity_size"), 1)).as_py() or 0),
            same_as_links=ws.row_count("links") if ws.has("links") else 0,
            durations_s={k: round(v, 2) for k, v in steps.durations.items()},
        )
        manifest.outputs = {"resolved_entities": entities.num_rows}
        if "screening" in summary:
            manifest.outputs["screening_hits"] = summary["screening"]["hits"]
        manifest.counts = {"parties": len(ids), "entities": n_entities, "new_parties": n_new}
        manifest.durations_s = steps.durations
        ws.write_manifest(manifest.finish("ok"))
        return summary
    except Exception:
        ws.write_manifest(manifest.finish("failed"))
        raise
    finally:
        engine.close()


def _write_links(ws: Workspace, engine, new: pa.Table, replace: bool) -> None:
    """Append ``new`` same_as links; a full run first drops the earlier resolve links."""
    schema = table("links").arrow_schema()
    if ws.has("links"):
        old = ws.read("links").select(schema.names).cast(schema)
        if replace:
            mine = pc.and_(pc.equal(old.column("kind"), "same_as"), pc.equal(old.column("source"), "resolve"))
            old = old.filter(pc.invert(pc.fill_null(mine, False)))
        merged = pa.concat_tables([old, new])
    else:
        merged = new
    engine.write_arrow("links", merged)
