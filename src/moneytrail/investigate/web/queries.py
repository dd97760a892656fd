"""Pure functions that build the workbench's SQL (portable dialect); the Reader runs them."""

from __future__ import annotations

from moneytrail.engine.duckdb_engine import sql_literal


def in_list(values: list[str]) -> str:
    """A SQL ``IN`` list of string literals (never empty)."""
    return "(" + ", ".join(sql_literal(v) for v in values) + ")" if values else "(NULL)"


def like_pattern(text: str) -> str:
    """A lower-case LIKE pattern matching ``text`` anywhere, with LIKE's wildcards escaped."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return sql_literal(f"%{escaped}%")


def leads_where_sql(q: str | None, typology: str | None, min_value: float | None) -> str:
    conds = ["1 = 1"]
    if q:
        pat = like_pattern(q)
        conds.append(
            f"(lower(lead_id) LIKE {pat} ESCAPE '\\' OR lower(COALESCE(narrative, '')) LIKE {pat} ESCAPE '\\' "
            f"OR lower(COALESCE(member_party_ids, '')) LIKE {pat} ESCAPE '\\' "
            f"OR lower(COALESCE(member_account_ids, '')) LIKE {pat} ESCAPE '\\')"
        )
    if typology:
        conds.append(f"(';' || COALESCE(typologies, '') || ';') LIKE {sql_literal('%;' + typology + ';%')}")
    if min_value is not None:
        conds.append(f"COALESCE(total_value_cad, 0) >= {float(min_value)!r}")
    return " AND ".join(conds)


_SORTS = {
    "rank": "rank ASC, lead_id",
    "value": "total_value_cad DESC NULLS LAST, rank",
    "recent": "last_ts DESC NULLS LAST, rank",
    "score": "score DESC, rank",
}
SORTS = tuple(_SORTS)


def leads_sql(where: str, sort: str, limit: int, offset: int) -> str:
    return f"""
        SELECT lead_id, rank, score, total_value_cad, first_ts, last_ts, typologies,
               member_account_ids, member_party_ids, narrative
        FROM leads WHERE {where}
        ORDER BY {_SORTS[sort]}
        LIMIT {int(limit)} OFFSET {int(offset)}
    """


def leads_count_sql(where: str) -> str:
    return f"SELECT count(*) AS n FROM leads WHERE {where}"


def typologies_sql() -> str:
    return """
        SELECT DISTINCT trim(t.value) AS typology
        FROM leads, UNNEST(string_split(COALESCE(typologies, ''), ';')) AS t(value)
        WHERE trim(t.value) <> '' ORDER BY 1
    """


def transactions_by_id_sql(txn_ids: list[str]) -> str:
    """The given transactions from the transactions table (a scan, pruned by the row groups' txn_id range)."""
    return f"""
        SELECT txn_id, ts, src_account_id, dst_account_id, amount, currency, COALESCE(amount_cad, amount) AS amount_cad, channel,
               cash_denomination, country_src, country_dst, memo, source_id
        FROM transactions WHERE txn_id IN {in_list(txn_ids)}
        ORDER BY ts, txn_id
    """


def search_accounts_sql(text: str, limit: int) -> str:
    pat = like_pattern(text)
    return f"""
        SELECT a.account_id, a.holder_party_id, a.institution, a.institution_type, a.source_id
        FROM accounts a
        WHERE lower(a.account_id) LIKE {pat} ESCAPE '\\' OR lower(a.source_id) LIKE {pat} ESCAPE '\\'
        ORDER BY a.account_id LIMIT {int(limit)}
    """


def search_phone_sql(digits: str, limit: int) -> str:
    # Compare digits only, so "+1 (604) 555-0101" finds "604-555-0101".
    return f"""
        SELECT party_id, name, name_native, phone, source
        FROM parties
        WHERE regexp_replace(COALESCE(phone, ''), '[^0-9]', '', 'g') LIKE {sql_literal("%" + digits + "%")}
        ORDER BY party_id LIMIT {int(limit)}
    """


def party_names_sql() -> str:
    return "SELECT party_id, name, name_native, kind, phone, source FROM parties ORDER BY party_id"


def flow_out_sql(account_ids: list[str], legs: str = "legs") -> str:
    """Money leaving the accounts, by destination kind (for the money-flow Sankey)."""
    ids = in_list(account_ids)
    return f"""
        SELECT l.channel, a.institution_type, l.country_dst, sum(l.amount_cad) AS amount_cad, count(*) AS n
        FROM {legs} l LEFT JOIN accounts a ON a.account_id = l.counterparty_id
        WHERE l.account_id IN {ids} AND l.direction = 'out' AND l.counterparty_id NOT IN {ids}
        GROUP BY 1, 2, 3
    """


def flow_in_sql(account_ids: list[str], legs: str = "legs") -> str:
    ids = in_list(account_ids)
    return f"""
        SELECT l.channel, a.institution_type, l.country_src, sum(l.amount_cad) AS amount_cad, count(*) AS n
        FROM {legs} l LEFT JOIN accounts a ON a.account_id = l.counterparty_id
        WHERE l.account_id IN {ids} AND l.direction = 'in' AND l.counterparty_id NOT IN {ids}
        GROUP BY 1, 2, 3
    """


def flow_property_sql(party_ids: list[str]) -> str:
    return f"""
        SELECT sum(COALESCE(cash_amount, 0)) AS cash_cad, sum(price) AS price_cad, count(*) AS n
        FROM property_transfers WHERE buyer_party_id IN {in_list(party_ids)}
    """
