"""Measure a world against the published figures of ``calibration.csv``.

:func:`measure` returns plain data (one dict per figure: figure_id, what, target, measured, ratio,
covered) so reports and briefs can render it as they like. Figures with two values (``140
transactions / 23500000``) are split into ``figure_id:part`` rows; ranges are compared with their
midpoint; rates are annualised or turned into monthly figures from the simulated window, and
volume targets are multiplied by the world's ``scale``.
"""

from __future__ import annotations

import csv
import json
from importlib import resources
from pathlib import Path

import duckdb

from moneytrail.fx import cad_rate

MONTH_DAYS = 365.25 / 12


def published() -> dict[str, dict]:
    """The published figures shipped with moneytrail, by figure id."""
    text = resources.files(__package__).joinpath("calibration.csv").read_text(encoding="utf-8")
    return {r["figure_id"]: r for r in csv.DictReader(text.splitlines())}


# figure id -> (target value, scales with --scale, SQL measuring it)
def _specs(out: str, world: dict) -> list[tuple[str, float, bool, str]]:
    days = world["days"]
    years, months = days / 365.0, days / MONTH_DAYS
    params = world["parameters"]
    largest = params["casinos"][0]
    styles = {n: c.get("style") for n, c in params["networks"].items()}
    ubs = [n for n, s in styles.items() if s == "underground_bank"]
    jins = [n for n, s in styles.items() if s == "casino_facilitator"]
    silver = max(ubs, key=lambda n: params["networks"][n]["kg_per_month"]) if ubs else None
    jin = jins[0] if jins else None
    kg_total = sum(world.get("product_kg", {}).values()) or float("nan")
    usd = f"(SELECT {cad_rate('USD')})"
    tx, tl, al = (
        f"'{out}/transactions.parquet'",
        f"'{out}/truth/transaction_labels.parquet'",
        f"'{out}/truth/account_labels.parquet'",
    )
    cs, pt, el = (
        f"'{out}/casino_sessions.parquet'",
        f"'{out}/property_transfers.parquet'",
        f"'{out}/truth/entity_labels.parquet'",
    )
    lt = f"{tx} t JOIN {tl} l USING (txn_id)"
    ub_ca = f"(SELECT account_id FROM {al} a JOIN '{out}/accounts.parquet' USING (account_id) WHERE a.network_id = '{silver}' AND a.role IN ('ub_agent', 'msb_front') AND country = 'CA')"
    specs = [
        ("cal_riverrock_july2015", 13_500_000, True,
         f"SELECT sum(buy_in_cad) / {months} FROM {cs} WHERE casino = '{largest}' AND buy_in_form = 'cash' AND buy_in_cad >= 10000 AND share_small_bills >= 0.5"),
        ("cal_bc_susp_cash_peak", 20_000_000, True,
         f"SELECT sum(amount_cad) / {months} FROM {lt} WHERE l.is_laundering AND t.channel = 'casino_buy_in'"),
        ("cal_bc_susp_cash_feb2018", 200_000, True,
         f"SELECT coalesce(sum(amount_cad), 0) / {months} FROM {lt} WHERE l.is_laundering AND t.channel = 'casino_buy_in'"),
        ("cal_bc_cash_10k_2014", 1_200_000_000, True,
         f"SELECT sum(amount_cad) / {years} FROM {tx} WHERE channel IN ('casino_buy_in', 'casino_cash_out') AND amount_cad >= 10000"),
        ("cal_bc_buyins_100k_2014", 1881, True,
         f"SELECT count(*) / {years} FROM {tx} WHERE channel = 'casino_buy_in' AND amount_cad >= 100000"),
        ("cal_cash_drop_typ", 225_000, False,
         f"SELECT median(amount_cad) FROM {lt} WHERE l.typology = 'vip_handover' AND l.network_id = '{silver}'"),
        ("cal_jin_network:transactions_per_year", 35, False,
         f"SELECT count(*) / {years} FROM {tl} l WHERE l.typology = 'vip_handover' AND l.network_id = '{jin}'"),
        ("cal_jin_network:value_per_year", 5_875_000, False,
         f"SELECT sum(amount_cad) / {years} FROM {lt} WHERE l.typology = 'vip_handover' AND l.network_id = '{jin}'"),
        ("cal_silver_ledger:in_per_month", 83_100_000 / 4.5, True,
         f"SELECT sum(amount_cad) / {months} FROM {tx} WHERE dst_account_id IN {ub_ca} AND src_account_id NOT IN {ub_ca}"),
        ("cal_silver_ledger:out_per_month", 81_500_000 / 4.5, True,
         f"SELECT sum(amount_cad) / {months} FROM {tx} WHERE src_account_id IN {ub_ca} AND dst_account_id NOT IN {ub_ca}"),
        ("cal_silver_annual", 221_000_000, True,
         f"SELECT sum(amount_cad) / {years} FROM {tx} WHERE dst_account_id IN {ub_ca} AND src_account_id NOT IN {ub_ca}"),
        ("cal_silver_peak_day", 2_675_000, True,
         f"SELECT max(v) FROM (SELECT CAST(ts AS DATE) AS d, sum(amount_cad) AS v FROM {tx} WHERE dst_account_id IN {ub_ca} AND src_account_id NOT IN {ub_ca} GROUP BY 1)"),
        ("cal_silver_payout_accounts", 600, False,
         f"SELECT count(DISTINCT a.account_id) FROM {al} a WHERE a.role = 'payout_account' AND a.network_id = '{silver}' "
         f"AND a.account_id IN (SELECT dst_account_id FROM {tx} UNION SELECT src_account_id FROM {tx})"),
        ("cal_private_lenders:lenders", 17, False,
         f"SELECT count(DISTINCT lender_party_id) FROM {pt} p JOIN {el} e ON e.entity_id = p.transfer_id WHERE p.lender_kind = 'private' AND e.indicator_ids LIKE '%G8%'"),
        ("cal_private_lenders:properties", 45, False,
         f"SELECT count(DISTINCT property_id) FROM {pt} p JOIN {el} e ON e.entity_id = p.transfer_id WHERE p.lender_kind = 'private' AND e.indicator_ids LIKE '%G8%'"),
        ("cal_private_lenders:value", 47_000_000, False,
         f"SELECT sum(mortgage_amount) FROM {pt} p JOIN {el} e ON e.entity_id = p.transfer_id WHERE p.lender_kind = 'private' AND e.indicator_ids LIKE '%G8%'"),
        ("cal_homemaker_spree:properties", 12, False,
         f"SELECT max(n) FROM (SELECT buyer_party_id, count(*) AS n FROM {pt} p JOIN {el} e ON e.entity_id = p.transfer_id WHERE e.indicator_ids LIKE '%R3%' GROUP BY 1)"),
        ("cal_homemaker_spree:value", 4_100_000, False,
         f"SELECT max(v) FROM (SELECT buyer_party_id, sum(price) AS v FROM {pt} p JOIN {el} e ON e.entity_id = p.transfer_id WHERE e.indicator_ids LIKE '%R3%' GROUP BY 1)"),
        ("cal_fee_underground", 6.0, False,
         f"SELECT 100 * (1 - sum(CASE WHEN l.typology = 'u3_cny' THEN amount_cad END) / sum(CASE WHEN l.typology = 'u3_cash' THEN amount_cad END)) FROM {lt}"),
        ("cal_fentanyl_kg_china", 1500, False,
         f"SELECT sum(t.amount_cad) / {usd} / {kg_total} FROM {lt} JOIN {al} a ON a.account_id = t.dst_account_id WHERE l.is_laundering AND a.role = 'supplier'"),
        ("cal_fentanyl_kg_vancouver", 80_000, False,
         f"SELECT sum(t.amount_cad) / {kg_total} FROM {lt} WHERE l.typology = 'drug_sale'"),
        ("cal_ml_bc_total", 7_400_000_000, True,
         f"SELECT sum(t.amount_cad) / {years} FROM {lt} WHERE l.typology = 'drug_sale'"),
    ]  # fmt: skip
    return specs


def measure(out: str | Path) -> list[dict]:
    """Every figure the world can be measured on, with ``covered`` true for those its preset calibrates."""
    out_p = Path(out)
    world = json.loads((out_p / "world.json").read_text(encoding="utf-8"))
    covered = set(world["parameters"].get("calibration", []))
    pub = published()
    scale = float(world.get("scale", 1.0))
    con = duckdb.connect()
    rows = []
    for fid, target, scales, sql in _specs(out_p.as_posix(), world):
        base = fid.split(":")[0]
        try:
            value = con.execute(sql).fetchone()[0]
        except duckdb.Error:
            value = None
        t = target * scale if scales else target
        measured = None if value is None else float(value)
        rows.append(
            {
                "figure_id": fid,
                "what": pub.get(base, {}).get("what", ""),
                "target": round(t, 4),
                "measured": None if measured is None else round(measured, 4),
                "ratio": None if (measured is None or not t) else round(measured / t, 4),
                "covered": base in covered,
            }
        )
    return rows


def write_csv(rows: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["figure_id", "target", "measured", "ratio"])
        for r in rows:
            w.writerow(
                [
                    r["figure_id"],
                    r["target"],
                    "" if r["measured"] is None else r["measured"],
                    "" if r["ratio"] is None else r["ratio"],
                ]
            )
