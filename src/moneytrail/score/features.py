"""Per-account tabular features, as portable SQL over the canonical ``transactions`` table.

Every function here builds SQL and returns it; the engine runs it. The features describe laundering
behaviour rather than any one generator's quirks: flows in and out, counterparties, amount
regularity, timing and bursts (fan-in/out within a day or a week), pass-through of money, and the
neighbourhood (how busy the counterparties are). Labels are never read here.
"""

from __future__ import annotations

# The 13 per-account flow features of the reference floor (counts, sums, means, standard
# deviations, maxima and distinct counterparties in and out, plus the out/in ratio).
FLOW_FEATURES = [
    "n_out",
    "n_in",
    "sum_out",
    "sum_in",
    "mean_out",
    "mean_in",
    "std_out",
    "std_in",
    "max_out",
    "max_in",
    "cp_out",
    "cp_in",
    "out_in_ratio",
]

BEHAVIOUR_FEATURES = [
    "active_days",
    "span_days",
    "txn_per_active_day",
    "max_day_n_in",
    "max_day_n_out",
    "max_week_cp_in",
    "max_week_cp_out",
    "week_cp_in_share",
    "week_cp_out_share",
    "passthrough_ratio",
    "passthrough_day_share",
    "cv_amount_in",
    "cv_amount_out",
    "round_share",
    "below_threshold_share",
    "reciprocal_cp",
    "gap_cv",
    "min_gap_hours",
    "cash_share",
    "cross_border_share",
    "foreign_currency_share",
    "cp_in_mean_degree",
    "cp_out_mean_degree",
    "cp_in_low_degree_share",
    "cp_out_low_degree_share",
    "single_pair_share",
    "single_pair_n",
    "single_pair_week_max",
    "cp_single_pair_share",
]

TABULAR_FEATURES = FLOW_FEATURES + BEHAVIOUR_FEATURES

# The reporting threshold (LCTR/EFTR) below which structured amounts cluster (S1, S2).
THRESHOLD_CAD = 10_000.0

# Aggregates over money and shares run in fixed point: a parallel engine adds floating-point
# partial sums in a varying order, so their last bits (and the splits of a model on them) would
# change from run to run; sums of integers and decimals are exact in any order.
SHARE_DECIMAL = "DECIMAL(18,9)"

# The SQL runs on every engine (see docs/engines.md): shares are averages of 0/1 integers and
# ratios divide DOUBLEs (a decimal literal such as 1.0 makes Spark compute in rounded DECIMALs),
# integer sums are cast to BIGINT, and the CTE names of each function are its own (the functions
# nest in one query, where Spark refuses a repeated CTE name).


def cents_sql(amount: str) -> str:
    """``amount`` as a whole number of cents (BIGINT), the fixed point money is summed in."""
    return f"CAST(ROUND({amount} * 100) AS BIGINT)"


def exact_sum_sql(value: str, decimal: str = SHARE_DECIMAL) -> str:
    """The sum of ``value`` (a share or a weight) on a fixed decimal grid, as DOUBLE: exact and
    independent of the order the engine adds rows in."""
    return f"CAST(SUM(CAST({value} AS {decimal})) AS DOUBLE)"


def exact_mean_sql(value: str, decimal: str = SHARE_DECIMAL) -> str:
    """The mean of ``value`` over its non-null rows (NULL when none), from :func:`exact_sum_sql`."""
    return f"{exact_sum_sql(value, decimal)} / NULLIF(COUNT({value}), 0)"


def moments_sql(value: str, name: str) -> str:
    """Count ``n_<name>``, sum ``s_<name>`` and sum of squares ``q_<name>`` of an integer
    ``value``, all exact (see :func:`mean_std_sql`)."""
    return (
        f"COUNT({value}) AS n_{name}, SUM({value}) AS s_{name}, "
        f"SUM(CAST({value} AS DECIMAL(38,0)) * {value}) AS q_{name}"
    )


def mean_std_sql(name: str, scale: float = 1.0) -> tuple[str, str]:
    """Mean and population standard deviation (0 when there are no rows) from the exact moments
    of :func:`moments_sql`, divided by ``scale``: n*q - s*s is computed exactly, so both are
    the same whatever order the rows were summed in."""
    n, s, q = f"n_{name}", f"s_{name}", f"q_{name}"
    var_n2 = f"CAST({n} * {q} - CAST({s} AS DECIMAL(38,0)) * CAST({s} AS DECIMAL(38,0)) AS DOUBLE)"
    mean = f"CASE WHEN {n} > 0 THEN CAST({s} AS DOUBLE) / {n} / {scale} ELSE 0 END"
    std = f"CASE WHEN {n} > 0 THEN SQRT(GREATEST({var_n2}, 0)) / {n} / {scale} ELSE 0 END"
    return mean, std


def legs_sql(transactions: str = "transactions") -> str:
    """Each transaction seen from both ends: one row per (account, counterparty, direction).

    ``transactions`` carries the per-end flags ``xborder``, ``src_foreign`` and ``dst_foreign``
    (see ``featurize.coded_transactions_sql``). ``outgoing`` is 1 where the account pays and 0
    where it receives, ``cash`` 1 for a cash payment (integers, cheaper to scan and test than the
    strings); ``cents`` is the amount in whole cents (money is summed in fixed point);
    ``foreign_ccy`` marks a currency other than the account's own; ``xborder`` a counterparty
    account in another country.
    """
    amt = "COALESCE(t.amount_cad, t.amount)"

    def side(me: str, other: str, d: str, foreign: str) -> str:
        return (
            f"SELECT t.{me} AS account_id, t.{other} AS cp, {d} AS outgoing, {amt} AS amt, "
            f"{cents_sql(amt)} AS cents, t.ts, CASE WHEN t.channel = 'cash' THEN 1 ELSE 0 END AS cash, "
            f"t.xborder, t.{foreign} AS foreign_ccy FROM {transactions} t"
        )

    return (
        side("src_account_id", "dst_account_id", "1", "src_foreign")
        + " UNION ALL "
        + side("dst_account_id", "src_account_id", "0", "dst_foreign")
    )


def flow_features_sql(legs: str = "legs") -> str:
    """The flow features (but the distinct counts: :func:`counterparty_features_sql`) and the amount
    shape, per account, from the legs relation ``legs``; sums, means and deviations of money are
    exact (from cents, see :func:`mean_std_sql`)."""
    o = "CASE WHEN outgoing = 1 THEN amt END"
    i = "CASE WHEN outgoing = 0 THEN amt END"
    oc = "CASE WHEN outgoing = 1 THEN cents END"
    ic = "CASE WHEN outgoing = 0 THEN cents END"
    t = THRESHOLD_CAD
    mean_out, std_out = mean_std_sql("out", 100.0)
    mean_in, std_in = mean_std_sql("in", 100.0)
    return f"""
SELECT account_id, n_out, n_in,
  CAST(COALESCE(s_out, 0) AS DOUBLE) / 100 AS sum_out, CAST(COALESCE(s_in, 0) AS DOUBLE) / 100 AS sum_in,
  {mean_out} AS mean_out, {mean_in} AS mean_in, {std_out} AS std_out, {std_in} AS std_in,
  max_out, max_in, round_share, below_threshold_share, cash_share, cross_border_share,
  foreign_currency_share, span_days
FROM (
  SELECT account_id, {moments_sql(oc, "out")}, {moments_sql(ic, "in")},
    COALESCE(MAX({o}), 0) AS max_out, COALESCE(MAX({i}), 0) AS max_in,
    AVG(CASE WHEN amt = ROUND(amt / 100) * 100 THEN 1 ELSE 0 END) AS round_share,
    AVG(CASE WHEN amt >= {0.8 * t} AND amt < {t} THEN 1 ELSE 0 END) AS below_threshold_share,
    AVG(cash) AS cash_share,
    AVG(CAST(xborder AS DOUBLE)) AS cross_border_share,
    AVG(CAST(foreign_ccy AS DOUBLE)) AS foreign_currency_share,
    (epoch(MAX(ts)) - epoch(MIN(ts))) / 86400.0 AS span_days
  FROM {legs}
  GROUP BY account_id
) AS m"""


def leg_sequence_sql(legs: str = "legs") -> str:
    """Each leg of ``legs`` in its account's time order: its day ``d``, the ``gap`` since the
    account's previous leg (whole milliseconds, so its moments are exact), ``new_day`` (1: the
    first leg of its day) and ``shared_day`` (1: its day has other legs). The timing and the
    daily window features both read this one ordering of the legs."""
    w = "OVER (PARTITION BY account_id ORDER BY ts)"
    return f"""
SELECT account_id, outgoing, cents, d,
  CAST(ROUND((e - LAG(e) {w}) * 1000) AS BIGINT) AS gap,
  CASE WHEN LAG(d) {w} = d THEN 0 ELSE 1 END AS new_day,
  CASE WHEN LAG(d) {w} = d OR LEAD(d) {w} = d THEN 1 ELSE 0 END AS shared_day
FROM (SELECT account_id, outgoing, cents, ts, epoch(ts) AS e, CAST(ts AS DATE) AS d FROM {legs}) AS seq_legs"""


def window_features_sql(seq: str = "leg_seq", transactions: str = "transactions") -> str:
    """Active days; bursts: the busiest day and week per direction; and days where money passes
    straight through, from the ordered legs ``seq`` (see :func:`leg_sequence_sql`).

    Only days with more than one leg are grouped (a day with one leg has one payment in or out
    and no pass-through), so the grouping is far smaller than one row per account and day. The
    weekly counterparties come from the (payer, payee, week) relations of ``transactions`` (each
    seen once rather than from both ends)."""
    return f"""
WITH win_acc AS (
  SELECT account_id, CAST(SUM(new_day) AS BIGINT) AS active_days, MAX(1 - outgoing) AS any_in,
    MAX(outgoing) AS any_out
  FROM {seq} GROUP BY account_id
), win_shared AS (
  SELECT account_id, d, CAST(SUM(1 - outgoing) AS BIGINT) AS n_in, CAST(SUM(outgoing) AS BIGINT) AS n_out,
    SUM(CASE WHEN outgoing = 0 THEN cents ELSE 0 END) AS v_in,
    SUM(CASE WHEN outgoing = 1 THEN cents ELSE 0 END) AS v_out
  FROM {seq} WHERE shared_day = 1 GROUP BY account_id, d
), win_shared_acc AS (
  SELECT account_id, MAX(n_in) AS n_in, MAX(n_out) AS n_out,
    CAST(SUM(CASE WHEN v_in > 0 AND v_out > 0
             AND ABS(v_in - v_out) <= 0.2 * GREATEST(v_in, v_out) THEN 1 ELSE 0 END) AS BIGINT) AS pass_days
  FROM win_shared GROUP BY account_id
), win_pair_week AS (
  SELECT DISTINCT src_account_id AS src, dst_account_id AS dst, FLOOR(epoch(ts) / 604800) AS w
  FROM {transactions}
), win_weekly AS (
  SELECT src AS account_id, w, CAST(0 AS BIGINT) AS cp_in, COUNT(*) AS cp_out FROM win_pair_week GROUP BY src, w
  UNION ALL
  SELECT dst, w, COUNT(*), CAST(0 AS BIGINT) FROM win_pair_week GROUP BY dst, w
), win_day AS (
  SELECT a.account_id, a.active_days,
    GREATEST(COALESCE(s.n_in, 0), a.any_in) AS max_day_n_in,
    GREATEST(COALESCE(s.n_out, 0), a.any_out) AS max_day_n_out,
    CAST(COALESCE(s.pass_days, 0) AS DOUBLE) / a.active_days AS passthrough_day_share
  FROM win_acc a LEFT JOIN win_shared_acc s ON s.account_id = a.account_id
), win_week AS (
  SELECT account_id, MAX(cp_in) AS max_week_cp_in, MAX(cp_out) AS max_week_cp_out
  FROM win_weekly GROUP BY account_id
)
SELECT win_day.account_id, active_days, max_day_n_in, max_day_n_out, passthrough_day_share,
  max_week_cp_in, max_week_cp_out
FROM win_day JOIN win_week ON win_week.account_id = win_day.account_id"""


def timing_features_sql(seq: str = "leg_seq") -> str:
    """Regularity of timing: coefficient of variation and minimum of the gaps between transactions,
    from the ordered legs ``seq`` (see :func:`leg_sequence_sql`)."""
    mean, std = mean_std_sql("gap")
    return f"""
WITH tim_moments AS (
  SELECT account_id, {moments_sql("gap", "gap")}, MIN(gap) AS min_gap
  FROM {seq} WHERE gap IS NOT NULL GROUP BY account_id
)
SELECT account_id,
  CASE WHEN s_gap > 0 THEN ({std}) / ({mean}) ELSE 0 END AS gap_cv,
  CAST(COALESCE(min_gap, 0) AS DOUBLE) / 3600000 AS min_gap_hours
FROM tim_moments"""


def txn_pairs_sql(transactions: str = "transactions") -> str:
    """One row per (payer, payee) account pair of ``transactions``: payments ``n``, value in whole
    ``cents`` and the first payment's time. The graph edges (:func:`edges_sql`), the counterparty
    relations (:func:`pairs_sql`) and the transaction signals' ``pair_n`` all start from it."""
    return f"""
SELECT src_account_id AS src, dst_account_id AS dst, COUNT(*) AS n,
  SUM({cents_sql("COALESCE(amount_cad, amount)")}) AS cents, MIN(ts) AS first_ts
FROM {transactions} GROUP BY src_account_id, dst_account_id"""


def pairs_sql(txn_pairs: str = "txn_pairs") -> str:
    """Each account's relation with each counterparty: payments out (``n_out``) and in (``n_in``),
    all of them (``n``) and the first one's time, from the payer-payee relation ``txn_pairs`` (see
    :func:`txn_pairs_sql`) seen from both ends.

    The counterparty features all start from this one aggregate (see
    :func:`counterparty_features_sql`)."""
    return f"""
SELECT account_id, cp, CAST(SUM(n_out) AS BIGINT) AS n_out, CAST(SUM(n_in) AS BIGINT) AS n_in,
  CAST(SUM(n_out + n_in) AS BIGINT) AS n, MIN(first_ts) AS first_ts
FROM (
  SELECT src AS account_id, dst AS cp, n AS n_out, CAST(0 AS BIGINT) AS n_in, first_ts FROM {txn_pairs}
  UNION ALL
  SELECT dst, src, CAST(0 AS BIGINT), n, first_ts FROM {txn_pairs}
) AS ends
GROUP BY account_id, cp"""


def counterparty_features_sql(pairs: str = "cp_pairs") -> str:
    """Counterparties, from the relations ``pairs`` (see :func:`pairs_sql`).

    Distinct counterparties in and out and the reciprocal ones; one-off relations (money moved
    once between a pair, unlike the repeated flows of ordinary life) and the busiest week of them
    (a scheme moves money along new edges in a burst); and the neighbourhood: how busy the
    counterparties are and how one-off their own relations are (schemes are chains of such
    accounts).
    """
    return f"""
WITH cpf_acc AS (
  SELECT account_id, CAST(SUM(CASE WHEN n_out > 0 THEN 1 ELSE 0 END) AS BIGINT) AS cp_out,
    CAST(SUM(CASE WHEN n_in > 0 THEN 1 ELSE 0 END) AS BIGINT) AS cp_in, COUNT(*) AS degree,
    CAST(SUM(CASE WHEN n_out > 0 AND n_in > 0 THEN 1 ELSE 0 END) AS BIGINT) AS reciprocal_cp,
    CAST(SUM(CASE WHEN n = 1 THEN 1 ELSE 0 END) AS DOUBLE) / SUM(n) AS single_pair_share,
    CAST(SUM(CASE WHEN n = 1 THEN 1 ELSE 0 END) AS BIGINT) AS single_pair_n
  FROM {pairs} GROUP BY account_id
), cpf_week AS (
  SELECT account_id, MAX(k) AS single_pair_week_max FROM (
    SELECT account_id, FLOOR(epoch(first_ts) / 604800) AS w, COUNT(*) AS k
    FROM {pairs} WHERE n = 1 GROUP BY account_id, FLOOR(epoch(first_ts) / 604800)
  ) AS x GROUP BY account_id
), cpf_nb AS (
  SELECT p.account_id,
    AVG(CASE WHEN p.n_in > 0 THEN c.degree END) AS cp_in_mean_degree,
    AVG(CASE WHEN p.n_out > 0 THEN c.degree END) AS cp_out_mean_degree,
    AVG(CASE WHEN p.n_in > 0 THEN CASE WHEN c.degree <= 2 THEN 1 ELSE 0 END END) AS cp_in_low_degree_share,
    AVG(CASE WHEN p.n_out > 0 THEN CASE WHEN c.degree <= 2 THEN 1 ELSE 0 END END) AS cp_out_low_degree_share,
    {exact_mean_sql("CASE WHEN p.n = 1 THEN c.single_pair_share END")} AS cp_single_pair_share
  FROM {pairs} p JOIN cpf_acc c ON c.account_id = p.cp
  GROUP BY p.account_id
)
SELECT a.account_id, cp_out, cp_in, reciprocal_cp, single_pair_share, single_pair_n,
  COALESCE(single_pair_week_max, 0) AS single_pair_week_max,
  cp_in_mean_degree, cp_out_mean_degree, cp_in_low_degree_share, cp_out_low_degree_share,
  COALESCE(cp_single_pair_share, 0) AS cp_single_pair_share
FROM cpf_acc a LEFT JOIN cpf_week wk ON wk.account_id = a.account_id
LEFT JOIN cpf_nb nb ON nb.account_id = a.account_id"""


def account_tabular_features_sql(
    legs: str = "legs",
    accounts: str = "accounts",
    transactions: str = "transactions",
    txn_pairs: str = "txn_pairs",
) -> str:
    """All tabular features for every account of ``accounts`` (zeros for accounts without
    transactions), from the relation ``legs`` (see :func:`legs_sql`), the ``transactions`` the legs
    came from and their payer-payee relation ``txn_pairs`` (see :func:`txn_pairs_sql`)."""
    z = "COALESCE"
    return f"""
WITH cp_pairs AS ({pairs_sql(txn_pairs)}),
leg_seq AS ({leg_sequence_sql(legs)}),
flow AS ({flow_features_sql(legs)}),
win AS ({window_features_sql("leg_seq", transactions)}),
tim AS ({timing_features_sql("leg_seq")}),
cpf AS ({counterparty_features_sql("cp_pairs")})
SELECT a.account_id,
  {z}(n_out, 0) AS n_out, {z}(n_in, 0) AS n_in,
  {z}(sum_out, 0) AS sum_out, {z}(sum_in, 0) AS sum_in,
  {z}(mean_out, 0) AS mean_out, {z}(mean_in, 0) AS mean_in,
  {z}(std_out, 0) AS std_out, {z}(std_in, 0) AS std_in,
  {z}(max_out, 0) AS max_out, {z}(max_in, 0) AS max_in,
  {z}(cp_out, 0) AS cp_out, {z}(cp_in, 0) AS cp_in,
  CASE WHEN {z}(sum_in, 0) > 0 THEN sum_out / sum_in ELSE {z}(sum_out, 0) END AS out_in_ratio,
  {z}(active_days, 0) AS active_days, {z}(span_days, 0) AS span_days,
  CASE WHEN active_days > 0 THEN CAST(n_in + n_out AS DOUBLE) / active_days ELSE 0 END AS txn_per_active_day,
  {z}(max_day_n_in, 0) AS max_day_n_in, {z}(max_day_n_out, 0) AS max_day_n_out,
  {z}(max_week_cp_in, 0) AS max_week_cp_in, {z}(max_week_cp_out, 0) AS max_week_cp_out,
  CASE WHEN cp_in > 0 THEN CAST(max_week_cp_in AS DOUBLE) / cp_in ELSE 0 END AS week_cp_in_share,
  CASE WHEN cp_out > 0 THEN CAST(max_week_cp_out AS DOUBLE) / cp_out ELSE 0 END AS week_cp_out_share,
  CASE WHEN GREATEST(sum_in, sum_out) > 0 THEN LEAST(sum_in, sum_out) / GREATEST(sum_in, sum_out)
       ELSE 0 END AS passthrough_ratio,
  {z}(passthrough_day_share, 0) AS passthrough_day_share,
  CASE WHEN mean_in > 0 THEN std_in / mean_in ELSE 0 END AS cv_amount_in,
  CASE WHEN mean_out > 0 THEN std_out / mean_out ELSE 0 END AS cv_amount_out,
  {z}(round_share, 0) AS round_share, {z}(below_threshold_share, 0) AS below_threshold_share,
  {z}(reciprocal_cp, 0) AS reciprocal_cp,
  {z}(gap_cv, 0) AS gap_cv, {z}(min_gap_hours, 0) AS min_gap_hours,
  {z}(cash_share, 0) AS cash_share, {z}(cross_border_share, 0) AS cross_border_share,
  {z}(foreign_currency_share, 0) AS foreign_currency_share,
  {z}(cp_in_mean_degree, 0) AS cp_in_mean_degree, {z}(cp_out_mean_degree, 0) AS cp_out_mean_degree,
  {z}(cp_in_low_degree_share, 0) AS cp_in_low_degree_share,
  {z}(cp_out_low_degree_share, 0) AS cp_out_low_degree_share,
  {z}(single_pair_share, 0) AS single_pair_share, {z}(single_pair_n, 0) AS single_pair_n,
  {z}(single_pair_week_max, 0) AS single_pair_week_max,
  {z}(cp_single_pair_share, 0) AS cp_single_pair_share
FROM {accounts} a
LEFT JOIN flow ON flow.account_id = a.account_id
LEFT JOIN win ON win.account_id = a.account_id
LEFT JOIN tim ON tim.account_id = a.account_id
LEFT JOIN cpf ON cpf.account_id = a.account_id
ORDER BY a.account_id"""


def edges_sql(txn_pairs: str = "txn_pairs") -> str:
    """The money-flow graph as an aggregated directed edge list (count and value per pair; the
    value summed exactly in cents), from the payer-payee relation ``txn_pairs`` (see
    :func:`txn_pairs_sql`)."""
    return (
        f"SELECT src, dst, n, CAST(cents AS DOUBLE) / 100 AS value FROM {txn_pairs} "
        "WHERE src <> dst ORDER BY src, dst"
    )
