"""Tide output: generated_nodes.csv, generated_edges.csv and optionally generated_patterns.json.

Nodes are individuals and businesses (parties) and accounts. Ownership edges give account
holders (``individual -> account``, ``business -> account``); an ownership edge from a person to a
business becomes a ``director_of`` link (weight = ownership share). Transaction edges are
transactions; a transaction's ``source_id`` is the 0-based row index of its edge in
generated_edges.csv (header excluded, counting every edge row). Deposits and withdrawals run
between an account and a person or business; that side becomes a placeholder cash-side account
(``is_external``) named after, and held by, the party.

Channels: DEPOSIT and WITHDRAWAL are cash, TRANSFER a wire, PAYMENT an EFT.

``is_fraudulent`` (nodes and edges) and generated_patterns.json go to the truth tables only
(``network_id`` = pattern_id, ``typology`` = pattern_type); pattern transactions are matched to
edges by source, destination, time and amount. Without them no truth is written.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyarrow as pa

from moneytrail.errors import InputFileError
from moneytrail.ingest.formats import Mapping, find_file
from moneytrail.ingest.sources import Source

SOURCE = "tide"
Q = f"'{SOURCE}:'"
TRUE_SQL = "(lower(trim({v})) IN ('true', 't', 'yes', '1'))"
NODE_KIND = "lower(replace(node_type, 'NodeType.', ''))"
CHANNEL_SQL = """CASE upper(replace({t}, 'TransactionType.', ''))
    WHEN 'DEPOSIT' THEN 'cash' WHEN 'WITHDRAWAL' THEN 'cash'
    WHEN 'TRANSFER' THEN 'wire' WHEN 'PAYMENT' THEN 'eft'
    ELSE 'other' END"""


class TideFormat:
    name = "tide"
    description = "Tide output (generated_nodes.csv, generated_edges.csv; generated_patterns.json optional)"

    def detect(self, path: Path) -> bool:
        return (
            path.is_dir()
            and find_file(path, "generated_nodes") is not None
            and find_file(path, "generated_edges") is not None
        )

    def sources(self, path: Path) -> list[Source]:
        if not path.is_dir():
            raise InputFileError(f"The tide format reads a folder of Tide output; {path} is not one.")
        nodes = find_file(path, "generated_nodes")
        edges = find_file(path, "generated_edges")
        for stem, p in (("generated_nodes", nodes), ("generated_edges", edges)):
            if p is None:
                raise InputFileError(
                    f"The folder {path} has no {stem}.csv (or .csv.gz); Tide output needs one."
                )
        self.patterns = find_file(path, "generated_patterns", (".json", ".json.gz"))
        return [
            Source("nodes", nodes, "accounts", required=("node_id", "node_type")),
            Source(
                "edges",
                edges,
                "transactions",
                required=("src", "dest", "edge_type", "amount", "currency", "timestamp"),
            ),
        ]

    def mappings(self, sources: dict[str, Source], con) -> list[Mapping]:
        n, e = sources["nodes"], sources["edges"]
        has_patterns = self.patterns is not None
        if has_patterns:
            self._register_patterns(con, self.patterns)
        out = [self._parties(n), self._accounts(n, e), self._transactions(e), self._links(n, e)]
        if e.has("is_fraudulent") or has_patterns:
            out.append(self._transaction_labels(e, has_patterns))
        if n.has("is_fraudulent") or has_patterns:
            out += [self._account_labels(n, has_patterns), self._party_labels(n, has_patterns)]
        return out

    # -- canonical tables --------------------------------------------------------------------------
    def _fraud_extra(self, s: Source, alias: str = "") -> tuple[list[str], str]:
        if not s.has("is_fraudulent"):
            return [], ""
        return ["x_is_fraudulent"], f", {alias}is_fraudulent AS x_is_fraudulent"

    def _parties(self, n: Source) -> Mapping:
        extras, extra_sql = self._fraud_extra(n)
        occupation = f"nullif({n.col('occupation')}, 'unknown')"
        sql = f"""
            SELECT {Q} || node_id AS party_id,
                   CASE {NODE_KIND} WHEN 'individual' THEN 'person' ELSE 'company' END AS kind,
                   {n.col("name")} AS name, {occupation} AS occupation, {n.col("country_code")} AS country,
                   '{SOURCE}' AS source, node_id AS source_id{extra_sql},
                   _line, _file, {n.raw_columns_sql()}
            FROM {n.relation} WHERE {NODE_KIND} IN ('individual', 'business')
        """
        present = ["party_id", "kind", "name", "occupation", "country", "source", "source_id"]
        return Mapping(
            "parties",
            sql,
            present,
            n,
            {"party_id": "node_id", "source_id": "node_id"},
            extras=extras,
            raw=n.raw_expr(),
        )

    def _accounts(self, n: Source, e: Source) -> Mapping:
        extras, extra_sql = self._fraud_extra(n, "a.")
        holders = (
            f"SELECT dest, arg_min(src, _line) AS holder FROM {e.relation} "
            f"WHERE edge_type = 'ownership' GROUP BY dest"
        )
        sql = f"""
            SELECT {Q} || a.node_id AS account_id,
                   {Q} || h.holder AS holder_party_id,
                   {n.col("institution_id")} AS institution,
                   'bank' AS institution_type,
                   {n.col("country_code")} AS country,
                   {n.col("currency")} AS currency,
                   {n.col("creation_date")} AS opened_at,
                   'false' AS is_external,
                   '{SOURCE}' AS source, a.node_id AS source_id{extra_sql},
                   CASE WHEN {NODE_KIND} IS DISTINCT FROM 'account'
                        THEN 'column ''node_type'' must be individual, business or account; got '''
                             || coalesce(node_type, '') || '''' END AS _check,
                   a._line, a._file, {n.raw_columns_sql("a")}
            FROM {n.relation} a LEFT JOIN ({holders}) h ON h.dest = a.node_id
            WHERE {NODE_KIND} IS DISTINCT FROM 'individual' AND {NODE_KIND} IS DISTINCT FROM 'business'
        """
        present = ["account_id", "holder_party_id", "institution", "institution_type", "country", "currency"]
        present += ["opened_at", "is_external", "source", "source_id"]
        origin = {
            "account_id": "node_id",
            "source_id": "node_id",
            "opened_at": "creation_date",
            "country": "country_code",
        }
        return Mapping(
            "accounts", sql, present, n, origin, extras=extras, ordered=True, checked=True, raw=n.raw_expr()
        )

    def _transactions(self, e: Source) -> Mapping:
        extras, extra_sql = self._fraud_extra(e)
        sql = f"""
            SELECT {Q} || CAST(_line - 2 AS VARCHAR) AS txn_id,
                   "timestamp" AS ts,
                   {Q} || src AS src_account_id,
                   {Q} || dest AS dst_account_id,
                   amount, currency,
                   {CHANNEL_SQL.format(t=e.col("transaction_type"))} AS channel,
                   '{SOURCE}' AS source, CAST(_line - 2 AS VARCHAR) AS source_id{extra_sql},
                   CASE WHEN edge_type IS DISTINCT FROM 'transaction'
                        THEN 'column ''edge_type'' must be transaction or ownership; got '''
                             || coalesce(edge_type, '') || '''' END AS _check,
                   _line, _file, {e.raw_columns_sql()}
            FROM {e.relation} WHERE edge_type IS DISTINCT FROM 'ownership'
        """
        present = ["txn_id", "ts", "src_account_id", "dst_account_id", "amount", "currency", "channel"]
        present += ["source", "source_id"]
        origin = {"ts": "timestamp", "src_account_id": "src", "dst_account_id": "dest"}
        return Mapping("transactions", sql, present, e, origin, extras=extras, checked=True, raw=e.raw_expr())

    def _links(self, n: Source, e: Source) -> Mapping:
        weight = f"CAST(TRY_CAST({e.col('ownership_percentage')} AS DOUBLE) / 100 AS VARCHAR)"
        sql = f"""
            SELECT {Q} || src AS party_a, {Q} || dest AS party_b, 'director_of' AS kind,
                   {weight} AS weight, '{SOURCE}' AS source, CAST(_line - 2 AS VARCHAR) AS source_id,
                   _line, _file, {e.raw_columns_sql()}
            FROM {e.relation}
            WHERE edge_type = 'ownership' AND dest IN (
                SELECT node_id FROM {n.relation} WHERE {NODE_KIND} IN ('individual', 'business'))
        """
        present = ["party_a", "party_b", "kind", "weight", "source", "source_id"]
        return Mapping("links", sql, present, e, {"party_a": "src", "party_b": "dest"}, raw=e.raw_expr())

    # -- truth -------------------------------------------------------------------------------------
    def _register_patterns(self, con, path: Path) -> None:
        try:
            opener = gzip.open if path.name.endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8") as fh:
                doc = json.load(fh)
            patterns = doc["patterns"] if isinstance(doc, dict) else doc
            txns, ents = [], []
            for p in patterns:
                pid, ptype = str(p["pattern_id"]), str(p.get("pattern_type", ""))
                for ent in p.get("entities", []):
                    ents.append((str(ent), pid, ptype))
                for t in p.get("transactions", []):
                    txns.append(
                        (str(t["src"]), str(t["dest"]), str(t["timestamp"]), float(t["amount"]), pid, ptype)
                    )
        except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
            raise InputFileError(
                f"The patterns file {path} is not valid Tide patterns JSON: {exc}."
            ) from None
        txn_cols = ["src", "dest", "ts", "amount", "pattern_id", "pattern_type"]
        txn_schema = pa.schema([(c, pa.float64() if c == "amount" else pa.string()) for c in txn_cols])
        con.register(
            "tide_pattern_txns",
            pa.Table.from_pylist([dict(zip(txn_cols, t, strict=True)) for t in txns], schema=txn_schema),
        )
        ent_cols = ["node_id", "pattern_id", "pattern_type"]
        ent_schema = pa.schema([(c, pa.string()) for c in ent_cols])
        con.register(
            "tide_pattern_entities",
            pa.Table.from_pylist([dict(zip(ent_cols, e, strict=True)) for e in ents], schema=ent_schema),
        )

    def _transaction_labels(self, e: Source, has_patterns: bool) -> Mapping:
        fraud = TRUE_SQL.format(v="s.x_is_fraudulent") if e.has("is_fraudulent") else "false"
        join, pid, ptype = "", "NULL", "NULL"
        if has_patterns:
            join = f"""LEFT JOIN (
                SELECT {Q} || src AS src, {Q} || dest AS dest, TRY_CAST(ts AS TIMESTAMP) AS ts, amount,
                       string_agg(DISTINCT pattern_id, ';' ORDER BY pattern_id) AS pattern_id,
                       string_agg(DISTINCT pattern_type, ';' ORDER BY pattern_type) AS pattern_type
                FROM tide_pattern_txns GROUP BY ALL) p
                ON p.src = s.src_account_id AND p.dest = s.dst_account_id AND p.ts = s.ts AND p.amount = s.amount"""
            pid, ptype = "p.pattern_id", "p.pattern_type"
        sql = f"""
            SELECT s.txn_id, CAST(({fraud} OR {pid} IS NOT NULL) AS VARCHAR) AS is_laundering,
                   {ptype} AS typology, {pid} AS network_id, '{SOURCE}' AS source,
                   s._line, s._file, CAST(NULL AS VARCHAR) AS _raw
            FROM new_transactions s {join}
        """
        present = ["txn_id", "is_laundering", "typology", "network_id", "source"]
        return Mapping(
            "transaction_labels", sql, present, e, derived=True, ordered=has_patterns, unique_keys=True
        )

    @staticmethod
    def _fraud(s: Source) -> str:
        if not s.has("is_fraudulent"):
            return "false"
        return f"coalesce({TRUE_SQL.format(v='s.x_is_fraudulent')}, false)"

    @staticmethod
    def _membership(has_patterns: bool, key: str) -> tuple[str, str, str]:
        if not has_patterns:
            return "", "NULL", "NULL"
        join = f"""LEFT JOIN (
            SELECT {Q} || node_id AS id,
                   string_agg(DISTINCT pattern_id, ';' ORDER BY pattern_id) AS pattern_id,
                   string_agg(DISTINCT pattern_type, ';' ORDER BY pattern_type) AS pattern_type
            FROM tide_pattern_entities GROUP BY node_id) p ON p.id = s.{key}"""
        return join, "p.pattern_id", "p.pattern_type"

    def _account_labels(self, n: Source, has_patterns: bool) -> Mapping:
        join, pid, ptype = self._membership(has_patterns, "account_id")
        sql = f"""
            SELECT s.account_id,
                   CAST(({self._fraud(n)} OR {pid} IS NOT NULL) AS VARCHAR)
                       AS is_laundering,
                   {pid} AS network_id, {ptype} AS typology, '{SOURCE}' AS source,
                   s._line, s._file, CAST(NULL AS VARCHAR) AS _raw
            FROM new_accounts s {join}
        """
        return Mapping(
            "account_labels",
            sql,
            ["account_id", "is_laundering", "network_id", "typology", "source"],
            n,
            derived=True,
            ordered=True,
            unique_keys=True,
        )

    def _party_labels(self, n: Source, has_patterns: bool) -> Mapping:
        join, pid, _ = self._membership(has_patterns, "party_id")
        fraud = f"({self._fraud(n)} OR {pid} IS NOT NULL)"
        sql = f"""
            SELECT s.party_id, s.party_id AS person_id,
                   CASE WHEN {fraud} THEN 'fraudulent' ELSE 'legitimate' END AS role,
                   {pid} AS network_id, '{SOURCE}' AS source,
                   s._line, s._file, CAST(NULL AS VARCHAR) AS _raw
            FROM new_parties s {join}
        """
        return Mapping(
            "party_labels",
            sql,
            ["party_id", "person_id", "role", "network_id", "source"],
            n,
            derived=True,
            ordered=True,
            unique_keys=True,
        )
