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
from splink.blocking_rule_library import And, CustomRule

# Pairs scored at or above this probability are kept from prediction (the rest cannot link).
PREDICT_THRESHOLD = 0.2
# Pairs at or above this probability join one cluster.
CLUSTER_THRESHOLD = 0.95
# Names spelled this close (Jaro-Winkler, spaces removed) differ by a typo.
CLOSE_SPELLING_JW = 0.92
# Splink's Jaro-Winkler function on each backend (comparison levels pick theirs themselves)
_JARO_WINKLER = {"duckdb": "jaro_winkler_similarity", "spark": "jaro_winkler"}


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
            # two organisations: their names are compared by the organisation comparison, so
            # this level only weighs how often two records of one firm meet, against two persons
            cll.CustomLevel("kind_l = 'company' AND kind_r = 'company'", base_dialect_str="duckdb").configure(
                label_for_charts="two organisations"
            ),
            cll.ExactMatchLevel("name_norm").configure(
                label_for_charts="same spelling", tf_adjustment_column="name_norm", tf_adjustment_weight=1.0
            ),
            # most random pairs share no name part: settle them before the costlier list levels
            cll.And(
                cll.Not(cll.ArrayIntersectLevel("name_parts", 1)),
                cll.Not(cll.JaroWinklerLevel("name_compact", CLOSE_SPELLING_JW)),
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
            cll.JaroWinklerLevel("name_compact", CLOSE_SPELLING_JW).configure(
                label_for_charts="spelling close (typo)"
            ),
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
    organisation = cl.CustomComparison(
        output_column_name="organisation_name",
        comparison_description="registered names of two organisations, legal forms and case folded",
        comparison_levels=[
            cll.CustomLevel("org_key_l IS NULL OR org_key_r IS NULL", base_dialect_str="duckdb").configure(
                is_null_level=True
            ),
            # the term frequency of a name is estimated from its words (see organisations.py)
            cll.ExactMatchLevel("org_key").configure(
                label_for_charts="same organisation name",
                tf_adjustment_column="org_key",
                tf_adjustment_weight=1.0,
            ),
            cll.JaroWinklerLevel("org_key", CLOSE_SPELLING_JW).configure(
                label_for_charts="organisation names close (typo)"
            ),
            cll.ElseLevel().configure(label_for_charts="other organisation names"),
        ],
    )
    address = cl.CustomComparison(
        output_column_name="address",
        comparison_description="address; for two organisations only an agreeing one counts",
        comparison_levels=[
            # a firm has a registered office, trading premises and agents' addresses, and each
            # source records another: two organisations' differing addresses say nothing
            cll.CustomLevel(
                "address_l IS NULL OR address_r IS NULL "
                "OR (kind_l = 'company' AND kind_r = 'company' AND address_l <> address_r)",
                base_dialect_str="duckdb",
            ).configure(is_null_level=True, label_for_charts="address unknown, or two organisations' differ"),
            cll.ExactMatchLevel("address"),
            cll.ElseLevel(),
        ],
    )
    country = cl.CustomComparison(
        output_column_name="organisation_country",
        comparison_description="country of two organisations",
        comparison_levels=[
            cll.NullLevel("org_country"),
            cll.ExactMatchLevel("org_country").configure(label_for_charts="same country"),
            cll.ElseLevel().configure(label_for_charts="other country"),
        ],
    )
    return [
        name,
        dob,
        organisation,
        country,
        cl.ExactMatch("phone"),
        cl.ExactMatch("email"),
        address,
        cl.ExactMatch("document_number"),
    ]


def name_level_labels() -> dict[int, str]:
    """Label of each level of the name comparison by its gamma value (for explanations)."""
    levels = comparisons()[0].get_comparison("duckdb").comparison_levels
    return {lv.comparison_vector_value: lv.label_for_charts for lv in levels}


def blocking_rules(dialect: str = "duckdb") -> list:
    """Candidate pairs, never a full cross product, and none that could not link.

    The same name in any romanisation and order born in the same month; a shared phone, e-mail
    or document number; the same birth date with a name part in common when the names could be
    an adopted English name beside a Chinese one or a typo; the same birth date and address;
    the same name and address. A common name alone is never a block (thousands of Wang Weis
    would make it quadratic), and neither is a birth date with a shared surname alone: that
    pairs everyone born on a day with the same common surname, and without another agreeing
    field such a pair never links. ``dialect`` is the Splink backend the rules run on.
    """
    jw = _JARO_WINKLER[dialect]
    english_or_typo = CustomRule(
        f"(l.english_name IS NULL) <> (r.english_name IS NULL) "
        f"OR {jw}(l.name_compact, r.name_compact) >= {CLOSE_SPELLING_JW}",
        sql_dialect=dialect,
    )
    return [
        block_on("name_keys", "birth_month", arrays_to_explode=["name_keys"]),
        block_on("phone"),
        block_on("email"),
        block_on("document_number"),
        And(block_on("dob", "name_parts"), english_or_typo, arrays_to_explode=["name_parts"]),
        block_on("dob", "address"),
        block_on("name_key", "address"),
        # organisations have no birth date: their names block among organisations only, on
        # the least used word, which the other records of a firm share however it is written
        block_on("org_rarest"),
    ]


# the columns the model reads: comparisons, blocking rules and the explanations of its pairs
MODEL_COLUMNS = (
    "unique_id", "kind", "name_norm", "name_compact", "name_key", "name_keys", "name_parts",
    "name_core", "core_keys", "english_name", "name_native", "rom_system", "dob", "birth_month",
    "phone", "email", "address", "document_number", "org_key", "org_rarest", "org_country",
)  # fmt: skip
# the columns the explanation of a scored pair reads
EXPLAIN_COLUMNS = (
    "name_norm", "name_native", "english_name", "rom_system", "dob", "phone", "email", "address",
    "document_number", "org_key", "org_country",
)  # fmt: skip


def settings(dialect: str = "duckdb") -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons(),
        blocking_rules_to_generate_predictions=blocking_rules(dialect),
        # the matching columns carry each comparison's level (gamma), which the explanations read
        retain_matching_columns=True,
        retain_intermediate_calculation_columns=False,
        additional_columns_to_retain=list(EXPLAIN_COLUMNS),
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
    # persons born on one day, or organisations of one registered name (they have no birth
    # date): trains the person-name levels and how often two organisations are one firm
    linker.training.estimate_parameters_using_expectation_maximisation(
        "coalesce(l.dob, l.org_key) = coalesce(r.dob, r.org_key)", max_pairs=options.em_max_pairs
    )


def model_is_current(path: Path) -> bool:
    """Whether the saved model at ``path`` was made with this version's blocking rules and comparisons.

    A model saved by an earlier version may block on columns the features no longer carry, so
    the caller retrains instead of linking incrementally with it.
    """
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        current = settings(saved.get("sql_dialect", "duckdb")).get_settings(
            saved.get("sql_dialect", "duckdb")
        )
    except (OSError, ValueError):
        return False

    def shape(d: dict) -> tuple:
        rules = json.dumps(d.get("blocking_rules_to_generate_predictions"), sort_keys=True)
        return rules, [c.get("output_column_name") for c in d.get("comparisons", [])]

    return shape(saved) == shape(current.as_dict())


def save_model(linker: Linker, path: Path) -> dict:
    """Save the trained model (Splink JSON) atomically; returns the settings dict."""
    path.parent.mkdir(parents=True, exist_ok=True)
    model = linker.misc.save_model_to_json()
    # a random per-run id Splink names its cached tables with; a loaded model makes its own
    model.pop("linker_uid", None)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(model, indent=2, sort_keys=True), encoding="utf-8")
    tmp.replace(path)
    return model
