"""The Splink model: comparisons, blocking rules, training and prediction.

Weights are never set by hand: u probabilities come from random sampling, m probabilities from
expectation maximisation on two blocking rules (each trains the comparisons it does not block on),
and the prior from deterministic rules with an assumed recall. The trained model is Splink JSON,
saved in the workspace and reused by later runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on

# Pairs scored at or above this probability are kept from prediction (the rest cannot link).
PREDICT_THRESHOLD = 0.2
# Pairs at or above this probability join one cluster.
CLUSTER_THRESHOLD = 0.95


@dataclass(frozen=True)
class TrainingOptions:
    """How much data training looks at; the seed makes u sampling reproducible."""

    seed: int = 42
    u_max_pairs: float = 6e5
    em_max_pairs: float = 6e5
    prior_recall: float = 0.7


def comparisons() -> list:
    """The field comparisons, most specific level first."""
    name = cl.CustomComparison(
        output_column_name="name",
        comparison_description="name, aware of Chinese romanisations and order",
        comparison_levels=[
            cll.NullLevel("name_key"),
            cll.ExactMatchLevel("name_norm").configure(
                label_for_charts="same spelling", tf_adjustment_column="name_norm", tf_adjustment_weight=1.0
            ),
            # most random pairs share no name part: settle them before the costlier list levels
            cll.And(
                cll.Not(cll.ArrayIntersectLevel("name_parts", 1)),
                cll.Not(cll.JaroWinklerLevel("name_compact", 0.92)),
            ).configure(label_for_charts="no name part in common"),
            cll.ExactMatchLevel("name_key").configure(
                label_for_charts="same name, other order or spacing",
                tf_adjustment_column="name_key",
                tf_adjustment_weight=1.0,
            ),
            cll.ArrayIntersectLevel("name_keys", 1).configure(
                label_for_charts="same name, other romanisation or order"
            ),
            cll.And(
                cll.ArrayIntersectLevel("core_keys", 1),
                cll.CustomLevel(
                    "(english_name_l IS NULL) <> (english_name_r IS NULL)", base_dialect_str="duckdb"
                ),
            ).configure(label_for_charts="same Chinese name, adopted English name beside it"),
            cll.JaroWinklerLevel("name_compact", 0.92).configure(label_for_charts="spelling close (typo)"),
            cll.And(
                cll.ArraySubsetLevel("name_core"),
                cll.CustomLevel(
                    "(english_name_l IS NULL) <> (english_name_r IS NULL)", base_dialect_str="duckdb"
                ),
            ).configure(label_for_charts="adopted English name with the same surname"),
            cll.ArrayIntersectLevel("name_parts", 2).configure(label_for_charts="two name parts agree"),
            cll.ArrayIntersectLevel("name_parts", 1).configure(label_for_charts="one name part agrees"),
            cll.ElseLevel(),
        ],
    )
    dob = cl.CustomComparison(
        output_column_name="birth_date",
        comparison_description="birth date",
        comparison_levels=[
            cll.NullLevel("dob"),
            cll.ExactMatchLevel("dob"),
            cll.CustomLevel(
                "substr(dob_l, 1, 7) = substr(dob_r, 1, 7)", "same month", base_dialect_str="duckdb"
            ),
            cll.ElseLevel(),
        ],
    )
    return [
        name,
        dob,
        cl.ExactMatch("phone"),
        cl.ExactMatch("email"),
        cl.ExactMatch("address"),
        cl.ExactMatch("document_number"),
    ]


def name_level_labels() -> dict[int, str]:
    """Label of each level of the name comparison by its gamma value (for explanations)."""
    levels = comparisons()[0].get_comparison("duckdb").comparison_levels
    return {lv.comparison_vector_value: lv.label_for_charts for lv in levels}


def blocking_rules() -> list:
    """Candidate pairs, never a full cross product: the same name in any romanisation and order
    born in the same year, a shared phone, e-mail or document number, or the same birth date with
    at least one name part in common (adopted English names, typos). A common name alone is
    never a block: thousands of Wang Weis would make it quadratic."""
    return [
        block_on("name_keys", "birth_year", arrays_to_explode=["name_keys"]),
        block_on("phone"),
        block_on("email"),
        block_on("document_number"),
        block_on("dob", "name_parts", arrays_to_explode=["name_parts"]),
        block_on("name_key", "address"),
        # companies have no birth date: their names block among companies only
        "l.name_key = r.name_key AND l.kind = 'company' AND r.kind = 'company'",
    ]


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=blocking_rules(),
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=["name", "name_native", "rom_system", "english_name", "source"],
    )


def train(linker: Linker, options: TrainingOptions) -> None:
    """Estimate the prior, u and m with Splink's own estimators."""
    linker.training.estimate_probability_two_random_records_match(
        [block_on("name_key", "dob"), block_on("document_number")], recall=options.prior_recall
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=options.u_max_pairs, seed=options.seed)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("name_key"), max_pairs=options.em_max_pairs
    )
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("dob"), max_pairs=options.em_max_pairs
    )


def save_model(linker: Linker, path: Path) -> dict:
    """Save the trained model (Splink JSON) atomically; returns the settings dict."""
    path.parent.mkdir(parents=True, exist_ok=True)
    model = linker.misc.save_model_to_json()
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(model, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
    return model
