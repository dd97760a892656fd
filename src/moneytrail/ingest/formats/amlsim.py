"""IBM AMLSim output: accounts.csv and transactions.csv, plus optional alert and SAR files.

Every account becomes an account (``amlsim:<acct_id>``) and its customer a party
(``amlsim:<dsply_nm>``, AMLSim's ``C_<acct_id>``). Ids are source-qualified; ``source_id`` keeps
AMLSim's own id. Amounts (``base_amt``) are in the accounts' reporting currency
(``acct_rptng_crncy``), USD when the accounts do not say. AMLSim's ``open_dt`` is a simulation
step, not a date, so ``opened_at`` stays empty.

Channels: TRANSFER and WIRE are wires; CASH-IN/CASH-OUT/DEPOSIT/WITHDRAWAL cash; CHECK/CHEQUE
cheques; PAYMENT an EFT; anything else ``other``.

Labels never reach the canonical tables: ``is_sar`` and ``alert_id`` columns are read in the
same pass but kept aside (as ``x_is_laundering`` and ``x_network_id``), and with
alert_transactions.csv, alert_accounts.csv and sar_accounts.csv they become the truth tables
``transaction_labels`` and ``account_labels``.
Without any of them (held-out data) no truth is written.
"""

from __future__ import annotations

from pathlib import Path

from moneytrail.errors import InputFileError
from moneytrail.ingest.formats import Mapping, find_file, projection_of_loaded
from moneytrail.ingest.sources import Source, read_header

SOURCE = "amlsim"
Q = f"'{SOURCE}:'"
# Columns every row of a mapping gives the same value (see Mapping.literals).
LITERALS = {"source": f"'{SOURCE}'"}

CHANNEL_SQL = """CASE upper({t})
    WHEN 'TRANSFER' THEN 'wire' WHEN 'WIRE' THEN 'wire'
    WHEN 'CASH-IN' THEN 'cash' WHEN 'CASH_IN' THEN 'cash' WHEN 'CASH-OUT' THEN 'cash' WHEN 'CASH_OUT' THEN 'cash'
    WHEN 'DEPOSIT' THEN 'cash' WHEN 'WITHDRAWAL' THEN 'cash'
    WHEN 'CHECK' THEN 'cheque' WHEN 'CHEQUE' THEN 'cheque'
    WHEN 'PAYMENT' THEN 'eft'
    ELSE 'other' END"""

# Comparisons, not ``IN (...)``: DuckDB plans an IN list as a join, which the single pass refuses
# (see moneytrail.ingest.stream); NULL stays NULL either way.
TRUE_SQL = "(" + " OR ".join(f"lower(trim({{v}})) = '{w}'" for w in ("true", "t", "yes", "y", "1")) + ")"


class AmlsimFormat:
    name = "amlsim"
    description = (
        "IBM AMLSim output (accounts.csv, transactions.csv; alert and SAR files optional; plain or .gz)"
    )

    def detect(self, path: Path) -> bool:
        if not path.is_dir():
            return False
        tx = find_file(path, "transactions")
        if tx is None:
            return False
        try:
            return "tran_id" in read_header(tx)
        except InputFileError:
            return False

    def sources(self, path: Path) -> list[Source]:
        if not path.is_dir():
            raise InputFileError(f"The amlsim format reads a folder of AMLSim output; {path} is not one.")
        tx = find_file(path, "transactions")
        if tx is None:
            raise InputFileError(
                f"The folder {path} has no transactions.csv (or .csv.gz); AMLSim output needs one."
            )
        out = [
            Source(
                "transactions",
                tx,
                "transactions",
                required=("tran_id", "orig_acct", "bene_acct", "base_amt", "tran_timestamp"),
            )
        ]
        optional = {
            "accounts": ("accounts", ("acct_id",)),
            "alert_transactions": ("transaction_labels", ("tran_id", "alert_id")),
            "alert_accounts": ("account_labels", ("alert_id", "acct_id")),
            "sar_accounts": ("account_labels", ("ACCOUNT_ID",)),
        }
        for stem, (table, required) in optional.items():
            p = find_file(path, stem)
            if p is not None:
                out.append(Source(stem, p, table, required=required))
        return out

    def mappings(self, sources: dict[str, Source], con) -> list[Mapping]:
        tx = sources["transactions"]
        acc = sources.get("accounts")
        out: list[Mapping] = []
        currency = "'USD'"
        ordered = False
        if acc is not None and acc.has("acct_rptng_crncy"):
            codes = [
                r[0]
                for r in con.execute(
                    f"SELECT DISTINCT acct_rptng_crncy FROM {acc.relation} WHERE acct_rptng_crncy IS NOT NULL LIMIT 2"
                ).fetchall()
            ]
            if len(codes) == 1:
                currency = "'" + codes[0].replace("'", "''") + "'"
            elif len(codes) > 1:
                currency = "coalesce(c.acct_rptng_crncy, 'USD')"
                ordered = True
        if acc is not None:
            out += [self._accounts(acc), self._parties(acc)]
        out.append(self._transactions(tx, acc, currency, ordered))
        labels = self._transaction_labels(tx, sources.get("alert_transactions"))
        if labels is not None:
            out.append(labels)
        acct_labels = self._account_labels(acc, sources.get("alert_accounts"), sources.get("sar_accounts"))
        if acct_labels is not None:
            out.append(acct_labels)
        return out

    # -- canonical tables --------------------------------------------------------------------------
    @staticmethod
    def _customer(a: Source) -> str:
        return f"coalesce({a.col('dsply_nm')}, 'C_' || acct_id)"

    def _accounts(self, a: Source) -> Mapping:
        sql = f"""
            SELECT {Q} || acct_id AS account_id,
                   {Q} || {self._customer(a)} AS holder_party_id,
                   {a.col("bank_id")} AS institution,
                   'bank' AS institution_type,
                   {a.col("country")} AS country,
                   {a.col("acct_rptng_crncy", "'USD'")} AS currency,
                   'false' AS is_external,
                   '{SOURCE}' AS source,
                   acct_id AS source_id,
                   _line, _file, {a.raw_columns_sql()}
            FROM {a.relation}
        """
        present = ["account_id", "holder_party_id", "institution", "institution_type", "country", "currency"]
        present += ["is_external", "source", "source_id"]
        origin = {"account_id": "acct_id", "source_id": "acct_id", "currency": "acct_rptng_crncy"}
        literals = {**LITERALS, "institution_type": "'bank'", "is_external": "'false'"}
        return Mapping(
            "accounts", sql, present, a, origin, raw=a.raw_expr(), positional=True, literals=literals
        )

    def _parties(self, a: Source) -> Mapping:
        kind = "'unknown'"
        if a.has("type"):
            kind = "CASE upper(\"type\") WHEN 'I' THEN 'person' WHEN 'O' THEN 'company' ELSE 'unknown' END"
        name = f"nullif(trim(concat_ws(' ', {a.col('first_name')}, {a.col('last_name')})), '')"
        address = (
            f"nullif(concat_ws(', ', {a.col('street_addr')}, {a.col('city')}, "
            f"nullif(trim(concat_ws(' ', {a.col('state')}, {a.col('zip')})), '')), '')"
        )
        sql = f"""
            SELECT {Q} || {self._customer(a)} AS party_id,
                   {kind} AS kind,
                   coalesce({name}, {a.col("dsply_nm")}) AS name,
                   {a.col("birth_date")} AS birth_date,
                   {address} AS address,
                   {a.col("country")} AS country,
                   '{SOURCE}' AS source,
                   {self._customer(a)} AS source_id,
                   _line, _file, {a.raw_columns_sql()}
            FROM {a.relation}
        """
        present = ["party_id", "kind", "name", "birth_date", "address", "country", "source", "source_id"]
        origin = {"party_id": "dsply_nm", "source_id": "dsply_nm", "kind": "type"}
        return Mapping(
            "parties", sql, present, a, origin, raw=a.raw_expr(), positional=True, literals=LITERALS
        )

    def _transactions(self, t: Source, acc: Source | None, currency: str, ordered: bool) -> Mapping:
        join = ""
        if ordered and acc is not None:
            join = f"LEFT JOIN (SELECT acct_id, any_value(acct_rptng_crncy) AS acct_rptng_crncy FROM {acc.relation} GROUP BY acct_id) c ON c.acct_id = t.orig_acct"
        # The labels' values, decided in the query that reads the file: it costs less there than
        # in the labels' own query over the loaded rows.
        labels = {
            "x_is_laundering": ("is_sar", f"coalesce({TRUE_SQL.format(v='t.is_sar')}, false)"),
            "x_network_id": ("alert_id", "nullif(nullif(t.alert_id, '-1'), '')"),
        }
        extras = [x for x, (c, _) in labels.items() if t.has(c)]
        extra_sql = "".join(f", {expr} AS {x}" for x, (c, expr) in labels.items() if t.has(c))
        sql = f"""
            SELECT t.tran_id AS txn_id,
                   t.tran_timestamp AS ts,
                   t.orig_acct AS src_account_id,
                   t.bene_acct AS dst_account_id,
                   t.base_amt AS amount,
                   {currency} AS currency,
                   {CHANNEL_SQL.format(t=t.col("tx_type", "NULL"))} AS channel,
                   '{SOURCE}' AS source,
                   t.tran_id AS source_id{extra_sql},
                   t._line, t._file, {t.raw_columns_sql("t")}
            FROM {t.relation} t {join}
        """
        present = ["txn_id", "ts", "src_account_id", "dst_account_id", "amount", "currency", "channel"]
        present += ["source", "source_id"]
        origin = {
            "txn_id": "tran_id",
            "source_id": "tran_id",
            "ts": "tran_timestamp",
            "src_account_id": "orig_acct",
            "dst_account_id": "bene_acct",
            "amount": "base_amt",
            "currency": "acct_rptng_crncy",
        }
        return Mapping(
            "transactions",
            sql,
            present,
            t,
            origin,
            extras=extras,
            ordered=ordered,
            raw=t.raw_expr(),
            positional=not join,
            literals={**LITERALS, "currency": currency} if currency.startswith("'") else LITERALS,
            prefixes=dict.fromkeys(("txn_id", "src_account_id", "dst_account_id"), f"{SOURCE}:"),
            copies={"txn_id": "source_id"},
        )

    # -- truth -------------------------------------------------------------------------------------
    def _transaction_labels(self, t: Source, alerts: Source | None) -> Mapping | None:
        has_sar, has_alert = t.has("is_sar"), t.has("alert_id")
        if not (has_sar or has_alert or alerts is not None):
            return None
        if alerts is None:
            # The labels are the transactions' own columns: the single pass writes them as it
            # writes the transactions.
            columns = {"txn_id": "txn_id"}
            literals = dict(LITERALS)
            if has_sar:
                columns["is_laundering"] = "x_is_laundering"
            else:
                literals["is_laundering"] = "'false'"
            if has_alert:
                columns["network_id"] = "x_network_id"
            return projection_of_loaded("transaction_labels", "transactions", t, columns, literals)
        join = (
            f"LEFT JOIN (SELECT tran_id, any_value(alert_id) AS alert_id, any_value({alerts.col('alert_type')}) AS alert_type, "
            f"bool_or({TRUE_SQL.format(v=alerts.col('is_sar', 'NULL'))}) AS is_sar "
            f"FROM {alerts.relation} GROUP BY tran_id) a ON a.tran_id = s.source_id"
        )
        sar = "s.x_is_laundering" if has_sar else "a.is_sar"
        alert = "s.x_network_id" if has_alert else "NULL"
        sql = f"""
            SELECT s.txn_id,
                   CAST(coalesce({sar}, false) AS VARCHAR) AS is_laundering,
                   a.alert_type AS typology,
                   coalesce({alert}, a.alert_id) AS network_id,
                   '{SOURCE}' AS source,
                   s._line, s._file, CAST(NULL AS VARCHAR) AS _raw
            FROM new_transactions s {join}
        """
        present = ["txn_id", "is_laundering", "typology", "network_id", "source"]
        return Mapping(
            "transaction_labels",
            sql,
            present,
            t,
            derived=True,
            ordered=True,
            unique_keys=True,
            literals=LITERALS,
        )

    def _account_labels(
        self, acc: Source | None, alerts: Source | None, sars: Source | None
    ) -> Mapping | None:
        parts = []
        if alerts is not None:
            parts.append(
                f"SELECT acct_id, alert_id, {alerts.col('alert_type')} AS alert_type, "
                f"{TRUE_SQL.format(v=alerts.col('is_sar', 'NULL'))} AS is_sar FROM {alerts.relation}"
            )
        if sars is not None:
            parts.append(
                f"SELECT ACCOUNT_ID AS acct_id, {sars.col('ALERT_ID')} AS alert_id, {sars.col('ALERT_TYPE')} AS alert_type, "
                f"coalesce({TRUE_SQL.format(v=sars.col('IS_SAR', 'NULL'))}, true) AS is_sar FROM {sars.relation}"
            )
        if not parts:
            return None
        union = " UNION ALL ".join(parts)
        agg = f"""
            SELECT acct_id,
                   bool_or(coalesce(is_sar, false)) AS is_sar,
                   string_agg(DISTINCT CASE WHEN is_sar THEN alert_id END, ';' ORDER BY CASE WHEN is_sar THEN alert_id END) AS alert_ids,
                   string_agg(DISTINCT CASE WHEN is_sar THEN alert_type END, ';' ORDER BY CASE WHEN is_sar THEN alert_type END) AS alert_types
            FROM ({union}) GROUP BY acct_id
        """
        if acc is not None:
            # One row per loaded account, so that "not laundering" is explicit.
            sql = f"""
                SELECT s.account_id,
                       CAST(coalesce(g.is_sar, false) AS VARCHAR) AS is_laundering,
                       g.alert_ids AS network_id, g.alert_types AS typology,
                       '{SOURCE}' AS source, s._line, s._file, CAST(NULL AS VARCHAR) AS _raw
                FROM new_accounts s LEFT JOIN ({agg}) g ON g.acct_id = s.source_id
            """
            return Mapping(
                "account_labels",
                sql,
                ["account_id", "is_laundering", "network_id", "typology", "source"],
                acc,
                derived=True,
                ordered=True,
                unique_keys=True,
            )
        src = alerts or sars
        sql = f"""
            SELECT {Q} || acct_id AS account_id, CAST(is_sar AS VARCHAR) AS is_laundering,
                   alert_ids AS network_id, alert_types AS typology, '{SOURCE}' AS source,
                   CAST(row_number() OVER (ORDER BY acct_id) AS BIGINT) AS _line,
                   '{src.path}' AS _file, CAST(NULL AS VARCHAR) AS _raw
            FROM ({agg})
        """
        return Mapping(
            "account_labels",
            sql,
            ["account_id", "is_laundering", "network_id", "typology", "source"],
            src,
            unique_keys=True,
        )
