"""Running the Splink model: full training and prediction, or incremental linking of new records.

Splink executes on the backend that matches the moneytrail engine: DuckDB in process, or Spark
with the Spark engine's own session (the one place that knows which is which).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from splink import Linker

from moneytrail.engine import Engine
from moneytrail.resolve import model as M
from moneytrail.resolve.organisations import ORG_KEY, TF_ORG_KEY, organisation_frequencies

# Splink reports training progress and untrained-level notices through logging; the progress
# display is ours, so only its errors come through.
logging.getLogger("splink").setLevel(logging.ERROR)


def splink_api(engine: Engine):
    """The Splink database API for ``engine``: Spark reuses the engine's session."""
    if engine.name == "spark":
        from splink import SparkAPI

        # Splink breaks long Spark lineages with checkpoints; keep them in the workspace
        checkpoints = engine.workspace.root / ".tmp" / "spark-checkpoints"
        checkpoints.mkdir(parents=True, exist_ok=True)
        engine.spark.sparkContext.setCheckpointDir(str(checkpoints))
        # Splink's string-similarity UDFs ship as a jar inside the splink package (no download);
        # ADD JAR puts it on the running session's class path before Splink registers them
        from splink.backends.spark import similarity_jar_location

        engine.spark.sql(f"ADD JAR '{similarity_jar_location()}'")
        return SparkAPI(spark_session=engine.spark)
    import duckdb
    from splink import DuckDBAPI

    con = duckdb.connect(":memory:")
    threads = engine.options.get("threads")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    return DuckDBAPI(connection=con)


def _register(api, data: pa.Table, name: str):
    data = data.select(list(M.MODEL_COLUMNS))
    if api.sql_dialect.sql_dialect_str == "spark":
        from pyspark.sql.pandas.types import from_arrow_schema

        # Spark takes pandas; list columns arrive as Python lists, which Spark reads as arrays.
        # The schema comes from Arrow, so a column that is all null (org_key in a world without
        # organisations) keeps its type instead of one Parquet cannot store
        frame = api.spark.createDataFrame(data.to_pandas(), schema=from_arrow_schema(data.schema))
        return api.register(frame, table_name=name)
    return api.register(data, table_name=name)


def _linker(api, records, features: pa.Table, settings) -> Linker:
    """A Linker over ``records`` whose organisation names carry their word-by-word frequency.

    Splink would count whole names; an organisation's name is rarer than its count says (see
    ``moneytrail.resolve.organisations``), so the term frequencies of ``org_key`` come from
    ``features`` (every record, existing and new) and are registered as Splink's lookup.
    """
    linker = Linker(records, settings, log_level=None)
    lookup = organisation_frequencies(features.column(ORG_KEY)).select([ORG_KEY, TF_ORG_KEY])
    if not lookup.num_rows:
        # no organisations: the level never applies; Splink's own (empty) table stands in, as
        # Spark cannot take an empty frame
        linker.table_management.compute_tf_table(ORG_KEY)
        return linker
    if api.sql_dialect.sql_dialect_str == "spark":
        lookup = lookup.to_pandas()
    linker.table_management.register_term_frequency_lookup(
        api.register(lookup, table_name="resolve_tf_org_key"), ORG_KEY
    )
    return linker


def _edges(df_predict) -> pa.Table:
    """The scored pairs as Arrow, with the columns the explanations need, in a stable order."""
    wanted = ["unique_id_l", "unique_id_r", "match_weight", "match_probability", "gamma_name"]
    wanted += [f"{c}_{side}" for c in M.EXPLAIN_COLUMNS for side in ("l", "r")]
    if df_predict.db_api.sql_dialect.sql_dialect_str == "duckdb":
        rel = df_predict.as_duckdbpyrelation()
        cols = [c for c in wanted if c in rel.columns]
        out = rel.select(", ".join(f'"{c}"' for c in cols)).to_arrow_table()
    else:
        frame = df_predict.as_pandas_dataframe()
        out = pa.Table.from_pandas(frame[[c for c in wanted if c in frame.columns]], preserve_index=False)
    # a stable order so ties and later steps never depend on the backend's row order
    return out.sort_by([("unique_id_l", "ascending"), ("unique_id_r", "ascending")])


def train_and_predict(
    engine: Engine, features: pa.Table, model_path: Path, options: M.TrainingOptions
) -> tuple[pa.Table, dict]:
    """Train a new model on ``features``, save it to ``model_path``, and score every blocked pair."""
    api = splink_api(engine)
    sdf = _register(api, features, "resolve_features")
    linker = _linker(api, sdf, features, M.settings(api.sql_dialect.sql_dialect_str))
    M.train(linker, options)
    model = M.save_model(linker, model_path)
    edges = _edges(linker.inference.predict(threshold_match_probability=M.PREDICT_THRESHOLD))
    return edges, model


def predict_with_model(engine: Engine, features: pa.Table, model_path: Path) -> pa.Table:
    """Score every blocked pair of ``features`` with the saved model (no training)."""
    api = splink_api(engine)
    sdf = _register(api, features, "resolve_features")
    linker = _linker(api, sdf, features, json.loads(model_path.read_text(encoding="utf-8")))
    return _edges(linker.inference.predict(threshold_match_probability=M.PREDICT_THRESHOLD))


def predict_new(engine: Engine, existing: pa.Table, new: pa.Table, model_path: Path) -> pa.Table:
    """Score new records against existing ones and among themselves with the saved model.

    Pairs among existing records are never formed, so earlier clusters are not recomputed.
    """
    api = splink_api(engine)
    both = pa.concat_tables([existing, new])
    everything = _register(api, both, "resolve_features")
    left = _register(api, existing, "resolve_existing")
    right = _register(api, new, "resolve_new")
    settings = json.loads(model_path.read_text(encoding="utf-8"))
    linker = _linker(api, everything, both, settings)
    # term frequencies over every record, existing and new, as a full prediction would use
    for column in ("name_norm", "name_key"):
        linker.table_management.compute_tf_table(column)
    between = linker.inference.predict_between(left, right, threshold_match_probability=M.PREDICT_THRESHOLD)
    within = linker.inference.predict_within(right, threshold_match_probability=M.PREDICT_THRESHOLD)
    edges = pa.concat_tables([_edges(between), _edges(within)], promote_options="permissive")
    # keep the smaller id on the left, as a full prediction does
    swap = pc.greater(edges.column("unique_id_l"), edges.column("unique_id_r"))
    if pc.any(swap).as_py():
        cols = {}
        for name in edges.column_names:
            if name.endswith("_l") and name[:-2] + "_r" in edges.column_names:
                a, b = edges.column(name), edges.column(name[:-2] + "_r")
                cols[name], cols[name[:-2] + "_r"] = pc.if_else(swap, b, a), pc.if_else(swap, a, b)
        for name, col in cols.items():
            edges = edges.set_column(edges.column_names.index(name), name, col)
    return edges.sort_by([("unique_id_l", "ascending"), ("unique_id_r", "ascending")])
