"""The books of each network, computed from a world's files (never from the generator's counters).

For each network, the traffickers' accounts (dealers, collectors, stash, mules, proxies, nominees,
lenders, shell companies) and its underground bank's accounts form the boundary. Every laundering
transaction is classified by where it goes:

- revenue: street sales (from the network's street-market account)
- sent_back: into a supplier's or a boss's account in China (directly, or through a licensed MSB
  that forwards a remittance)
- placed: out of the boundary into the wider economy (casinos, sellers, lawyers, merchants), net of
  what comes back (casino pay-outs, online gambling payouts)
- held: the traffickers' balances at the end
- fees: what the underground bank's accounts keep (its spread)

and the identity ``revenue = placed + held + fees + sent_back`` must hold, with the VIP swaps
(cash handed over in Canada, yuan repaid in China) balanced and no trafficker account ever below
zero. :func:`books` returns the figures; the tests assert the identity.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from moneytrail.simulate.network import SENT_BACK_ROLES, TRAFFICKER_ROLES, UB_ROLES

TRANSIT_ROLES = ("msb_licensed",)


def _in(values) -> str:
    return "(" + ", ".join(f"'{v}'" for v in sorted(values)) + ")"


def flows_sql(out: str) -> str:
    """Every laundering transaction with the boundary class of both ends (pure; builds SQL only)."""
    return f"""
        WITH acct AS (
            SELECT account_id, role, network_id,
                   CASE WHEN role IN {_in(TRAFFICKER_ROLES)} THEN 'T'
                        WHEN role IN {_in(UB_ROLES)} THEN 'U'
                        WHEN role IN {_in(SENT_BACK_ROLES)} THEN 'S'
                        WHEN role = 'street_market' THEN 'R'
                        WHEN role IN {_in(TRANSIT_ROLES)} THEN 'M'
                        ELSE 'X' END AS cls
            FROM '{out}/truth/account_labels.parquet'
        )
        SELECT l.network_id, t.txn_id, t.ts, t.src_account_id, t.dst_account_id, t.amount_cad, l.typology,
               CASE WHEN s.network_id = l.network_id OR s.cls IN ('M', 'X') THEN s.cls ELSE 'X' END AS src_cls,
               CASE WHEN d.network_id = l.network_id OR d.cls IN ('M', 'X') THEN d.cls ELSE 'X' END AS dst_cls
        FROM '{out}/transactions.parquet' t
        JOIN '{out}/truth/transaction_labels.parquet' l USING (txn_id)
        JOIN acct s ON s.account_id = t.src_account_id
        JOIN acct d ON d.account_id = t.dst_account_id
        WHERE l.is_laundering
    """


def books_sql(out: str) -> str:
    """One row of books per network (pure)."""
    return f"""
        WITH f AS ({flows_sql(out)})
        SELECT network_id,
            sum(CASE WHEN src_cls = 'R' THEN amount_cad ELSE 0 END) AS revenue,
            sum(CASE WHEN src_cls IN ('T', 'U', 'M') AND dst_cls = 'S' THEN amount_cad ELSE 0 END) AS sent_back,
            sum(CASE WHEN src_cls IN ('T', 'U') AND dst_cls = 'X' AND coalesce(typology, '') <> 'vip_handover' THEN amount_cad ELSE 0 END)
              - sum(CASE WHEN src_cls = 'X' AND dst_cls IN ('T', 'U') AND coalesce(typology, '') <> 'vip_repayment' THEN amount_cad ELSE 0 END) AS placed,
            sum(CASE WHEN dst_cls = 'T' THEN amount_cad ELSE 0 END) - sum(CASE WHEN src_cls = 'T' THEN amount_cad ELSE 0 END) AS held,
            sum(CASE WHEN dst_cls = 'U' THEN amount_cad ELSE 0 END) - sum(CASE WHEN src_cls = 'U' THEN amount_cad ELSE 0 END) AS fees,
            sum(CASE WHEN typology = 'vip_handover' THEN amount_cad ELSE 0 END)
              - sum(CASE WHEN typology = 'vip_repayment' THEN amount_cad ELSE 0 END) AS open_swaps,
            sum(CASE WHEN src_cls IN ('T', 'U') AND dst_cls = 'M' THEN amount_cad ELSE 0 END)
              - sum(CASE WHEN src_cls = 'M' THEN amount_cad ELSE 0 END) AS in_transit,
            sum(CASE WHEN src_cls IN ('T', 'U') AND dst_cls = 'U' AND typology IN ('u3_cash', 'u4_cash') THEN amount_cad ELSE 0 END) AS to_underground_bank,
            count(*) AS transactions
        FROM f GROUP BY network_id ORDER BY network_id
    """


def min_balance_sql(out: str) -> str:
    """The lowest running balance any trafficker account reaches (pure)."""
    return f"""
        WITH f AS ({flows_sql(out)}),
        moves AS (
            SELECT network_id, dst_account_id AS account_id, ts, amount_cad AS delta, txn_id FROM f WHERE dst_cls = 'T'
            UNION ALL
            SELECT network_id, src_account_id, ts, -amount_cad, txn_id FROM f WHERE src_cls = 'T'
        ),
        run AS (
            SELECT network_id, account_id,
                   sum(delta) OVER (PARTITION BY account_id ORDER BY ts, delta DESC, txn_id
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS balance
            FROM moves
        )
        SELECT network_id, min(balance) AS min_balance FROM run GROUP BY network_id ORDER BY network_id
    """


def books(out: str | Path) -> list[dict]:
    """The books of every network in the world at ``out``, with the lowest trafficker balance."""
    out = Path(out).as_posix()
    con = duckdb.connect()
    cur = con.execute(books_sql(out))
    cols = [d[0] for d in cur.description]
    rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
    mins = dict(con.execute(min_balance_sql(out)).fetchall())
    for r in rows:
        r["min_trafficker_balance"] = mins.get(r["network_id"], 0.0)
        r["unexplained"] = r["revenue"] - (
            r["placed"] + r["held"] + r["fees"] + r["sent_back"] + r["open_swaps"] + r["in_transit"]
        )
    return rows
