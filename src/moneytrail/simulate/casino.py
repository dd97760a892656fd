"""A laundering visit to a casino: buy-ins with drug cash, little or real play, and the pay-out.

The indicators are labelled from what the generated rows show: C1 when a buy-in of C$20,000 or
more is mostly $20 bills; C4 when less than a third of the buy-in is wagered before cashing out;
C5 when small bills go in and $100s or a cheque come out; C7 (and S1) when buy-ins just under
C$10,000 repeat within 24 hours; C8 when the cheque is made out to someone else; S3 when the
pay-outs reach C$10,000 within 24 hours.
"""

from __future__ import annotations

import numpy as np

from moneytrail.simulate.book import US_PER_HOUR, Book


def casino_visit(
    book: Book,
    rng: np.random.Generator,
    *,
    net: str,
    ts: int,
    amount: float,
    party: int,
    patron: int,
    houses: list[int],
    casino_names: list[str],
    casino_p: np.ndarray,
    delivered_by: int | None = None,
    extra: tuple[str, ...] = (),
    split_under: float | None = None,
    third_party: tuple[int, int] | None = None,
    cash_out_to: int | None = None,
    low_play_p: float = 0.6,
) -> float:
    """Buy in with ``amount`` of small bills and cash out; returns the total paid out in cash or
    cheque (chips carried away are not paid out).

    ``split_under`` splits the buy-in into pieces just under that threshold (C7); a remainder under
    half the threshold is not bought in and stays with the player;
    ``third_party`` = (payee party, payee account) makes the pay-out a cheque to them (C8).
    """
    c = int(rng.choice(len(houses), p=casino_p))
    house = houses[c]
    pieces: list[float]
    if split_under:
        pieces = []
        left = amount
        while left > 0.5:
            if pieces and left < split_under * 0.5:
                break  # a few hundred dollars are not worth another trip to the cage: the player keeps them
            x = min(left, float(rng.uniform(split_under * 0.9, split_under * 0.99)).__round__(-1))
            pieces.append(x)
            left = round(left - x, 2)
    else:
        pieces = [round(amount, 2)]
    low_play = rng.random() < low_play_p
    t = ts
    total_out = 0.0
    out_times: list[int] = []
    for k, buy in enumerate(pieces):
        share = float(rng.uniform(0.8, 1.0)).__round__(2)
        if low_play:
            wagered = buy * float(rng.uniform(0.03, 0.3))
            out = buy * float(rng.uniform(0.85, 1.0))
        else:
            wagered = buy * float(rng.uniform(1.0, 3.0))
            out = buy * float(rng.uniform(0.3, 1.15))
        out = round(out, -1)
        form = "cash_large" if rng.random() < 0.5 else ("cheque" if rng.random() < 0.6 else "chips")
        payee = None
        if third_party is not None and form != "chips" and k == 0:
            form = "cheque"
            payee = third_party
        start = t
        end = start + int(rng.uniform(0.4, 2.5) * US_PER_HOUR)
        inds = list(extra)
        if buy >= 20_000 and share >= 0.7:
            inds.append("C1")
        if low_play:
            inds.append("C4")
        if form in ("cash_large", "cheque"):
            inds.append("C5")
        if split_under and len(pieces) > 1 and buy >= 0.9 * split_under:
            inds += ["C7", "S1"]
        if payee is not None:
            inds.append("C8")
        buy_ref = book.txn(
            start,
            patron,
            house,
            buy,
            "casino_buy_in",
            denom=20,
            source="casino",
            network=net,
            indicators=[i for i in inds if i not in ("C5", "C8")],
            stage="placement",
            typology="casino_buy_in",
        )
        out_ref = None
        if form != "chips":
            dst = payee[1] if payee else (cash_out_to if cash_out_to is not None else patron)
            total_out += out
            out_times.append(end)
            ch = "cheque" if form == "cheque" else "casino_cash_out"
            out_inds = [i for i in inds if i in ("C4", "C5", "C8")] + list(extra)
            if total_out >= 10_000 and out_times[-1] - out_times[0] <= 24 * US_PER_HOUR:
                out_inds.append("S3")
            out_ref = book.txn(
                end,
                house,
                dst,
                out,
                ch,
                denom=100 if ch == "casino_cash_out" else 0,
                source="casino",
                network=net,
                indicators=out_inds,
                stage="integration",
                typology="casino_cash_out",
            )
        sid = book.sessions.add(
            party=party,
            casino=casino_names[c],
            start=start,
            end=end,
            buy_in=buy,
            buy_in_form="cash",
            wagered=round(wagered, -1),
            cash_out=out if form != "chips" else round(out, -1),
            cash_out_form=form,
            payee=payee[0] if payee else None,
            share_small=share,
            delivered_by=delivered_by,
            # S1 is the cash-transaction rule (the buy-in carries it); the session's view is C7
            indicators=";".join(sorted(set(inds) - {"S1"}, key=lambda s: (s[0], int(s[1:])))),
            network=net,
            refs=(buy_ref, out_ref),
        )
        del sid
        t = end + int(rng.uniform(0.5, 5) * US_PER_HOUR)
    return total_out
