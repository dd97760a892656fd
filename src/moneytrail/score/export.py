"""CSV exports of the score tables, in the columns DESIGN.md fixes, with the sources' own ids."""

from __future__ import annotations

from pathlib import Path

from moneytrail.engine import Engine
from moneytrail.engine.duckdb_engine import sql_literal
from moneytrail.errors import ConfigError, WorkspaceError

KINDS = ("account-scores", "transaction-scores", "leads")
COLUMNS = {
    "account-scores": ["account_id", "score", "alert", "typologies", "reason"],
    "transaction-scores": ["txn_id", "score", "alert"],
    "leads": [
        "lead_id",
        "rank",
        "score",
        "total_value_cad",
        "first_ts",
        "last_ts",
        "typologies",
        "member_account_ids",
        "member_party_ids",
        "narrative",
    ],
}


def _source_ids_sql(ids_col: str, alias: str, table: str = "accounts", key: str = "account_id") -> str:
    """Map a ';'-joined list of ids to the records' source ids, keeping the order of ids."""
    return f"""(
  SELECT string_agg(COALESCE(a.source_id, m.id), ';' ORDER BY m.pos)
  FROM (SELECT UNNEST(string_split({ids_col}, ';')) AS id, generate_subscripts(string_split({ids_col}, ';'), 1) AS pos) AS m
  LEFT JOIN {table} a ON a.{key} = m.id
) AS {alias}"""


def export_sql(kind: str) -> str:
    """The query behind ``moneytrail export KIND`` (ids replaced by the sources' own ids)."""
    if kind == "account-scores":
        return (
            "SELECT COALESCE(a.source_id, s.account_id) AS account_id, s.score, "
            "CASE WHEN s.alert THEN 1 ELSE 0 END AS alert, s.typologies, s.reason "
            "FROM account_scores s LEFT JOIN accounts a ON a.account_id = s.account_id "
            "ORDER BY s.score DESC, s.account_id"
        )
    if kind == "transaction-scores":
        return (
            "SELECT COALESCE(t.source_id, s.txn_id) AS txn_id, s.score, CASE WHEN s.alert THEN 1 ELSE 0 END AS alert "
            "FROM transaction_scores s LEFT JOIN transactions t ON t.txn_id = s.txn_id "
            "ORDER BY s.score DESC, s.txn_id"
        )
    if kind == "leads":
        return (
            "SELECT l.lead_id, l.rank, l.score, l.total_value_cad, l.first_ts, l.last_ts, l.typologies, "
            f"{_source_ids_sql('l.member_account_ids', 'member_account_ids')}, "
            f"{_source_ids_sql('l.member_party_ids', 'member_party_ids', 'parties', 'party_id')}, "
            "l.narrative FROM leads l ORDER BY l.rank"
        )
    raise ConfigError(f"The export kind must be one of {', '.join(KINDS)}. Got {kind!r} instead.")


def export_csv(engine: Engine, kind: str, out: str | Path) -> int:
    """Write export ``kind`` as CSV to ``out`` (atomically); returns the row count."""
    sql = export_sql(kind)
    table = {
        "account-scores": "account_scores",
        "transaction-scores": "transaction_scores",
        "leads": "leads",
    }[kind]
    if not engine.has_table(table):
        raise WorkspaceError(
            f"The workspace has no table '{table}'; run `moneytrail detect` or `moneytrail score` first."
        )
    data = engine.query(sql, label=f"export {kind}")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    data.to_pandas().to_csv(tmp, index=False)
    tmp.replace(out)
    return data.num_rows


__all__ = ["COLUMNS", "KINDS", "export_csv", "export_sql", "sql_literal"]
