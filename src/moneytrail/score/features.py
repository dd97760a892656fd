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


def legs_sql(transactions: str = "transactions", accounts: str = "accounts") -> str:
    """Each transaction seen from both ends: one row per (account, counterparty, direction).

    ``cents`` is the amount in whole cents (money is summed in fixed point); ``foreign`` marks a
    currency other than the account's own; ``xborder`` a counterparty account in another country
    (from the transaction's countries, else the accounts' countries).
    """
    amt = "COALESCE(t.amount_cad, t.amount)"

    def side(me: str, other: str, d: str, my_c: str, other_c: str) -> str:
        return (
            f"SELECT t.{me} AS account_id, t.{other} AS cp, '{d}' AS dir, {amt} AS amt, "
            f"{cents_sql(amt)} AS cents, t.ts, t.channel, "
            f"CASE WHEN COALESCE(t.{my_c}, a.country) <> COALESCE(t.{other_c}, b.country) THEN 1 ELSE 0 END AS xborder, "
            "CASE WHEN a.currency IS NOT NULL AND t.currency <> a.currency THEN 1 ELSE 0 END AS foreign_ccy "
            f"FROM {transactions} t LEFT JOIN {accounts} a ON a.account_id = t.{me} "
            f"LEFT JOIN {accounts} b ON b.account_id = t.{other}"
        )

    return (
        side("src_account_id", "dst_account_id", "out", "country_src", "country_dst")
        + " UNION ALL "
        + side("dst_account_id", "src_account_id", "in", "country_dst", "country_src")
    )


def flow_features_sql(legs: str = "legs") -> str:
    """The flow features (but the distinct counts: :func:`counterparty_features_sql`) and the amount
    shape, per account, from the legs relation ``legs``; sums, means and deviations of money are
    exact (from cents, see :func:`mean_std_sql`)."""
    o = "CASE WHEN dir = 'out' THEN amt END"
    i = "CASE WHEN dir = 'in' THEN amt END"
    oc = "CASE WHEN dir = 'out' THEN cents END"
    ic = "CASE WHEN dir = 'in' THEN cents END"
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
    AVG(CASE WHEN channel = 'cash' THEN 1 ELSE 0 END) AS cash_share,
    AVG(CAST(xborder AS DOUBLE)) AS cross_border_share,
    AVG(CAST(foreign_ccy AS DOUBLE)) AS foreign_currency_share,
    (epoch(MAX(ts)) - epoch(MIN(ts))) / 86400.0 AS span_days
  FROM {legs}
  GROUP BY account_id
) AS m"""


def window_features_sql(legs: str = "legs") -> str:
    """Active days; bursts: the busiest day and week per direction; and days where money passes
    straight through."""
    return f"""
WITH win_daily AS (
  SELECT account_id, CAST(ts AS DATE) AS d,
    CAST(SUM(CASE WHEN dir = 'in' THEN 1 ELSE 0 END) AS BIGINT) AS n_in,
    CAST(SUM(CASE WHEN dir = 'out' THEN 1 ELSE 0 END) AS BIGINT) AS n_out,
    SUM(CASE WHEN dir = 'in' THEN cents ELSE 0 END) AS v_in,
    SUM(CASE WHEN dir = 'out' THEN cents ELSE 0 END) AS v_out
  FROM {legs} GROUP BY account_id, CAST(ts AS DATE)
), win_weekly AS (
  SELECT account_id, w, CAST(SUM(CASE WHEN dir = 'in' THEN 1 ELSE 0 END) AS BIGINT) AS cp_in,
    CAST(SUM(CASE WHEN dir = 'out' THEN 1 ELSE 0 END) AS BIGINT) AS cp_out
  FROM (SELECT DISTINCT account_id, FLOOR(epoch(ts) / 604800) AS w, dir, cp FROM {legs}) AS x
  GROUP BY account_id, w
), win_day AS (
  SELECT account_id, COUNT(*) AS active_days, MAX(n_in) AS max_day_n_in, MAX(n_out) AS max_day_n_out,
    AVG(CASE WHEN v_in > 0 AND v_out > 0
             AND ABS(v_in - v_out) <= 0.2 * GREATEST(v_in, v_out) THEN 1 ELSE 0 END)
      AS passthrough_day_share
  FROM win_daily GROUP BY account_id
), win_week AS (
  SELECT account_id, MAX(cp_in) AS max_week_cp_in, MAX(cp_out) AS max_week_cp_out
  FROM win_weekly GROUP BY account_id
)
SELECT win_day.account_id, active_days, max_day_n_in, max_day_n_out, passthrough_day_share,
  max_week_cp_in, max_week_cp_out
FROM win_day JOIN win_week ON win_week.account_id = win_day.account_id"""


def timing_features_sql(legs: str = "legs") -> str:
    """Regularity of timing: coefficient of variation and minimum of the gaps between transactions
    (gaps in whole milliseconds, so their moments are exact)."""
    mean, std = mean_std_sql("gap")
    return f"""
WITH tim_gaps AS (
  SELECT account_id,
    CAST(ROUND((epoch(ts) - LAG(epoch(ts)) OVER (PARTITION BY account_id ORDER BY ts)) * 1000) AS BIGINT) AS gap
  FROM {legs}
), tim_moments AS (
  SELECT account_id, {moments_sql("gap", "gap")}, MIN(gap) AS min_gap
  FROM tim_gaps WHERE gap IS NOT NULL GROUP BY account_id
)
SELECT account_id,
  CASE WHEN s_gap > 0 THEN ({std}) / ({mean}) ELSE 0 END AS gap_cv,
  CAST(COALESCE(min_gap, 0) AS DOUBLE) / 3600000 AS min_gap_hours
FROM tim_moments"""


def pairs_sql(legs: str = "legs") -> str:
    """Each account's relation with each counterparty: payments out (``n_out``) and in (``n_in``),
    all of them (``n``) and the first one's time, from the legs relation ``legs``.

    The counterparty features all start from this one aggregate (see
    :func:`counterparty_features_sql`)."""
    return f"""
SELECT account_id, cp, CAST(SUM(CASE WHEN dir = 'out' THEN 1 ELSE 0 END) AS BIGINT) AS n_out,
  CAST(SUM(CASE WHEN dir = 'in' THEN 1 ELSE 0 END) AS BIGINT) AS n_in, COUNT(*) AS n, MIN(ts) AS first_ts
FROM {legs} GROUP BY account_id, cp"""


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


def account_tabular_features_sql(legs: str = "legs", accounts: str = "accounts") -> str:
    """All tabular features for every account of ``accounts`` (zeros for accounts without
    transactions), from the relation ``legs`` (see :func:`legs_sql`)."""
    z = "COALESCE"
    return f"""
WITH cp_pairs AS ({pairs_sql(legs)}),
flow AS ({flow_features_sql(legs)}),
win AS ({window_features_sql(legs)}),
tim AS ({timing_features_sql(legs)}),
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


def edges_sql(transactions: str = "transactions") -> str:
    """The money-flow graph as an aggregated directed edge list (count and value per pair; the
    value summed exactly in cents)."""
    return (
        "SELECT src_account_id AS src, dst_account_id AS dst, COUNT(*) AS n, "
        f"CAST(SUM({cents_sql('COALESCE(amount_cad, amount)')}) AS DOUBLE) / 100 AS value FROM {transactions} "
        "WHERE src_account_id <> dst_account_id GROUP BY src_account_id, dst_account_id "
        "ORDER BY src, dst"
    )
