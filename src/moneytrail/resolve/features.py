"""The comparison feature table: one row per party with normalised fields and name features.

Name features need the lexicon, so they are computed in Python once per distinct
(name, name_native) pair (far fewer than parties) and registered as ``resolve_name_features``;
everything else is normalised in portable SQL by the engine.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from moneytrail.engine import Engine
from moneytrail.resolve.names import name_features
from moneytrail.resolve.organisations import ORG_KEY, ORG_RAREST, organisation_frequencies, organisation_key

NAME_FEATURES = "resolve_name_features"
NAME_FEATURE_SCHEMA = pa.schema(
    [
        ("name_join", pa.string()),
        ("native_join", pa.string()),
        ("name_norm", pa.string()),
        ("name_sorted", pa.string()),
        ("name_key", pa.string()),
        ("name_keys", pa.list_(pa.string())),
        ("name_parts", pa.list_(pa.string())),
        ("name_core", pa.list_(pa.string())),
        ("core_keys", pa.list_(pa.string())),
        ("english_name", pa.string()),
        ("rom_system", pa.string()),
        ("native_pinyin", pa.string()),
        (ORG_KEY, pa.string()),
    ]
)


def distinct_names_sql(table: str = "parties") -> str:
    """The distinct (name, name_native) pairs of a party table."""
    return (
        f"SELECT DISTINCT coalesce(name, '') AS name_join, coalesce(name_native, '') AS native_join "
        f"FROM {table} ORDER BY name_join, native_join"
    )


def name_feature_table(names: pa.Table) -> pa.Table:
    """Compute the name features of each (name_join, native_join) row."""
    cols: dict[str, list] = {f.name: [] for f in NAME_FEATURE_SCHEMA}
    for name, native in zip(
        names.column("name_join").to_pylist(), names.column("native_join").to_pylist(), strict=True
    ):
        f = name_features(name or None, native or None)
        cols["name_join"].append(name)
        cols["native_join"].append(native)
        for k, v in f.as_dict().items():
            cols[k].append(v)
        cols[ORG_KEY].append(organisation_key(name))
    return pa.table(cols, schema=NAME_FEATURE_SCHEMA)


def party_features_sql(table: str = "parties", names: str = NAME_FEATURES) -> str:
    """One feature row per party: normalised identifiers joined to the name features."""
    return f"""
SELECT
  p.party_id AS unique_id,
  p.source,
  p.kind,
  p.name,
  p.name_native,
  f.name_norm,
  replace(f.name_norm, ' ', '') AS name_compact,
  f.name_sorted,
  f.name_key,
  f.name_keys,
  f.name_parts,
  f.name_core,
  f.core_keys,
  f.english_name,
  f.rom_system,
  CASE WHEN p.kind = 'company' THEN f.org_key END AS org_key,
  CASE WHEN p.kind = 'company' THEN NULLIF(upper(trim(p.country)), '') END AS org_country,
  CAST(p.birth_date AS VARCHAR) AS dob,
  substr(CAST(p.birth_date AS VARCHAR), 1, 7) AS birth_month,
  NULLIF(right(regexp_replace(coalesce(p.phone, ''), '[^0-9]', '', 'g'), 10), '') AS phone,
  NULLIF(lower(trim(p.email)), '') AS email,
  NULLIF(lower(trim(regexp_replace(coalesce(p.address, ''), '[^A-Za-z0-9]+', ' ', 'g'))), '') AS address,
  NULLIF(upper(regexp_replace(coalesce(p.document_number, ''), '[^A-Za-z0-9]', '', 'g')), '') AS document_number,
  p.country
FROM {table} p
LEFT JOIN {names} f
  ON f.name_join = coalesce(p.name, '') AND f.native_join = coalesce(p.name_native, '')
"""


def with_organisation_rarity(features: pa.Table) -> pa.Table:
    """``features`` with ``org_rarest``: the least used word of each organisation's name."""
    if ORG_RAREST in features.column_names:
        features = features.drop_columns([ORG_RAREST])
    freq = organisation_frequencies(features.column(ORG_KEY))
    rarest = pc.index_in(features.column(ORG_KEY), value_set=freq.column(ORG_KEY))
    return features.append_column(ORG_RAREST, freq.column(ORG_RAREST).take(rarest))


def build_features(engine: Engine, table: str = "parties") -> pa.Table:
    """Compute the feature table of ``table`` through ``engine`` (returned as Arrow)."""
    names = engine.query(distinct_names_sql(table), label="distinct party names")
    engine.register_arrow(NAME_FEATURES, name_feature_table(names))
    return with_organisation_rarity(engine.query(party_features_sql(table), label="party features"))
