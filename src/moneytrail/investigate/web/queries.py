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


def lead_sql(lead_id: str) -> str:
    return f"SELECT * FROM leads WHERE lead_id = {sql_literal(lead_id)}"


def typologies_sql() -> str:
    return """
        SELECT DISTINCT trim(t.value) AS typology
        FROM leads, UNNEST(string_split(COALESCE(typologies, ''), ';')) AS t(value)
        WHERE trim(t.value) <> '' ORDER BY 1
    """


def edges_sql(account_ids: list[str], has_accounts: bool = True, legs: str = "legs") -> str:
    """Money between the given accounts and their counterparties, one row per direction and pair.

    ``other_type`` is the counterparty's institution type, used to group counterparties that are
    too many to draw.
    """
    ids = in_list(account_ids)
    return f"""
        SELECT e.*, {"a.institution_type" if has_accounts else "CAST(NULL AS VARCHAR)"} AS other_type
        FROM (
            SELECT account_id AS src, counterparty_id AS dst, counterparty_id AS other, count(*) AS n,
                   sum(amount_cad) AS amount_cad, min(ts) AS first_ts, max(ts) AS last_ts,
                   string_agg(DISTINCT channel, ';' ORDER BY channel) AS channels
            FROM {legs}
            WHERE account_id IN {ids} AND direction = 'out'
            GROUP BY account_id, counterparty_id
            UNION ALL
            SELECT counterparty_id AS src, account_id AS dst, counterparty_id AS other, count(*) AS n,
                   sum(amount_cad) AS amount_cad, min(ts) AS first_ts, max(ts) AS last_ts,
                   string_agg(DISTINCT channel, ';' ORDER BY channel) AS channels
            FROM {legs}
            WHERE account_id IN {ids} AND direction = 'in' AND counterparty_id NOT IN {ids}
            GROUP BY account_id, counterparty_id
        ) AS e
        {"LEFT JOIN accounts a ON a.account_id = e.other" if has_accounts else ""}
        ORDER BY e.src, e.dst
    """


def account_nodes_sql(account_ids: list[str], has_scores: bool, has_parties: bool) -> str:
    score = (
        "s.score, s.alert, s.typologies" if has_scores else "NULL AS score, NULL AS alert, NULL AS typologies"
    )
    score_join = "LEFT JOIN account_scores s ON s.account_id = a.account_id" if has_scores else ""
    party = (
        "p.name, p.name_native, p.kind AS party_kind"
        if has_parties
        else "NULL AS name, NULL AS name_native, NULL AS party_kind"
    )
    party_join = "LEFT JOIN parties p ON p.party_id = a.holder_party_id" if has_parties else ""
    return f"""
        SELECT a.account_id, a.holder_party_id, a.institution, a.institution_type, a.country, a.currency,
               a.source_id, {party}, {score}
        FROM accounts a {party_join} {score_join}
        WHERE a.account_id IN {in_list(account_ids)}
        ORDER BY a.account_id
    """


def party_sql(party_id: str) -> str:
    return f"SELECT * FROM parties WHERE party_id = {sql_literal(party_id)}"


def party_accounts_sql(party_id: str, has_scores: bool) -> str:
    score = (
        "s.score, s.alert, s.typologies, s.reason, s.contributions"
        if has_scores
        else ("NULL AS score, NULL AS alert, NULL AS typologies, NULL AS reason, NULL AS contributions")
    )
    join = "LEFT JOIN account_scores s ON s.account_id = a.account_id" if has_scores else ""
    return f"""
        SELECT a.account_id, a.institution, a.institution_type, a.country, a.currency, a.opened_at,
               a.source_id, {score}
        FROM accounts a {join}
        WHERE a.holder_party_id = {sql_literal(party_id)}
        ORDER BY score DESC NULLS LAST, a.account_id
    """


def party_score_sql(party_id: str) -> str:
    return (
        f"SELECT score, alert, typologies, reason FROM party_scores WHERE party_id = {sql_literal(party_id)}"
    )


def hits_sql(account_ids: list[str], party_ids: list[str], limit: int = 100) -> str:
    return f"""
        SELECT hit_id, detector_id, indicator_ids, entity_kind, entity_id, window_start, window_end,
               metrics, evidence_txn_ids, severity
        FROM detector_hits
        WHERE (entity_kind = 'account' AND entity_id IN {in_list(account_ids)})
           OR (entity_kind = 'party' AND entity_id IN {in_list(party_ids)})
        ORDER BY severity DESC, hit_id
        LIMIT {int(limit)}
    """


def transactions_by_id_sql(txn_ids: list[str]) -> str:
    return f"""
        SELECT txn_id, ts, src_account_id, dst_account_id, amount, currency, amount_cad, channel,
               cash_denomination, country_src, country_dst, memo, source_id
        FROM transactions WHERE txn_id IN {in_list(txn_ids)}
        ORDER BY ts, txn_id
    """


def timeline_sql(account_ids: list[str], legs: str = "legs") -> str:
    """Money in and out of the accounts per month."""
    return f"""
        SELECT date_trunc('month', ts) AS month,
               sum(CASE WHEN direction = 'in' THEN amount_cad ELSE 0 END) AS in_cad,
               sum(CASE WHEN direction = 'out' THEN amount_cad ELSE 0 END) AS out_cad,
               count(*) AS n
        FROM {legs} WHERE account_id IN {in_list(account_ids)}
        GROUP BY 1 ORDER BY 1
    """


def recent_legs_sql(account_ids: list[str], limit: int = 50, legs: str = "legs") -> str:
    return f"""
        SELECT txn_id, ts, account_id, counterparty_id, direction, amount_cad, channel, country_src, country_dst
        FROM {legs} WHERE account_id IN {in_list(account_ids)}
        ORDER BY amount_cad DESC, ts, txn_id LIMIT {int(limit)}
    """


def casino_sessions_sql(party_id: str, limit: int = 50) -> str:
    return f"""
        SELECT session_id, casino, start_ts, buy_in_cad, cash_out_cad, cash_out_form, share_small_bills
        FROM casino_sessions WHERE party_id = {sql_literal(party_id)}
        ORDER BY start_ts, session_id LIMIT {int(limit)}
    """


def property_transfers_sql(party_ids: list[str], limit: int = 50) -> str:
    ids = in_list(party_ids)
    return f"""
        SELECT transfer_id, property_id, ts, buyer_party_id, seller_party_id, price, mortgage_amount,
               lender_kind, cash_amount, via_trust_account
        FROM property_transfers
        WHERE buyer_party_id IN {ids} OR seller_party_id IN {ids} OR lender_party_id IN {ids}
        ORDER BY ts, transfer_id LIMIT {int(limit)}
    """


def leads_with_member_sql(party_id: str, account_ids: list[str]) -> str:
    conds = [f"(';' || COALESCE(member_party_ids, '') || ';') LIKE {sql_literal('%;' + party_id + ';%')}"]
    conds += [
        f"(';' || COALESCE(member_account_ids, '') || ';') LIKE {sql_literal('%;' + a + ';%')}"
        for a in account_ids[:20]
    ]
    return f"SELECT lead_id, rank, score FROM leads WHERE {' OR '.join(conds)} ORDER BY rank LIMIT 20"


def aliases_resolved_sql(party_id: str) -> str:
    """Other records of the same resolved entity, from ``resolved_entities``."""
    return f"""
        SELECT r.party_id, r.entity_id, p.name, p.name_native, p.source, p.source_id, p.phone, p.birth_date
        FROM resolved_entities r JOIN parties p ON p.party_id = r.party_id
        WHERE r.entity_id IN (SELECT entity_id FROM resolved_entities WHERE party_id = {sql_literal(party_id)})
          AND r.party_id <> {sql_literal(party_id)}
        ORDER BY r.party_id
    """


def aliases_links_sql(party_id: str) -> str:
    """Other records linked to the party by a ``same_as`` link."""
    pid = sql_literal(party_id)
    return f"""
        SELECT p.party_id, p.name, p.name_native, p.source, p.source_id, p.phone, p.birth_date, l.weight
        FROM links l
        JOIN parties p ON p.party_id = CASE WHEN l.party_a = {pid} THEN l.party_b ELSE l.party_a END
        WHERE l.kind = 'same_as' AND (l.party_a = {pid} OR l.party_b = {pid})
        ORDER BY l.weight DESC NULLS LAST, p.party_id
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
