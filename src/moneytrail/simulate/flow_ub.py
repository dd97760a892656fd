"""Underground-bank channels of a network's flows: mirror swaps with VIP gamblers (U3, C2, C3, U1),
'tuition' wires to student accounts (U4) and the MSB front's cash-in, wires-out (U2, G2).

A mixin of :class:`moneytrail.simulate.channels.Flows`; it uses the flow's state and helpers.
"""

from __future__ import annotations

import numpy as np

from moneytrail.simulate.book import US_PER_DAY, US_PER_HOUR
from moneytrail.simulate.casino import casino_visit
from moneytrail.simulate.network import Member


class UndergroundBankFlows:
    """Channels through the network's underground bank."""

    # -- underground bank ---------------------------------------------------------------------
    def _fee(self) -> float:
        ub = self.cfg.get("ub", {})
        return self._u(ub.get("fee_min", 0.02), ub.get("fee_max", 0.10)) + self.iv.fee_add(0)

    def _u3(
        self,
        t: int,
        amt: float,
        dst: int,
        *,
        stage: str = "layering",
        memo: str | None = None,
        tuition: bool = False,
    ) -> bool:
        """Cash to the underground bank in Canada, yuan out of a payout account in China, less a fee.

        With ``tuition`` the yuan goes to a 'student' account in Canada as tuition (U4), which is
        not a swap inside China, so neither leg is labelled U3.
        """
        t1 = self._t(t, 1, 12)
        t2 = self._t(t1, 2, 60)
        if not self._ok(t2):
            return False
        agent = self._pick(self.net.agents)
        ind, typ = (["U4"], "u4") if tuition else (["U3"], "u3")
        self.tx(
            t1,
            self.net.stash,
            agent.cash,
            amt,
            "cash",
            denom=20,
            source="surveillance",
            stage="placement",
            ind=ind,
            typ=f"{typ}_cash",
        )
        self.tx(
            t2,
            self._payout(),
            dst,
            amt * (1 - self._fee()),
            "wire",
            currency="CNY",
            rate=self.rate_cny,
            memo=memo,
            stage=stage,
            ind=ind,
            typ=f"{typ}_cny",
        )
        self.agent_pool += amt
        return True

    def _ub_swap(self, t: int) -> None:
        ub = self.cfg["ub"]
        lo, hi = ub.get("slice_min", 150_000), ub.get("slice_max", 500_000)
        u4 = float(ub.get("tuition_share", 0.05))
        # the bank takes cash in slices of at least ``slice_min`` whatever the scale: a smaller
        # remainder waits at the stash for the next round's cash
        while self.pool["ub_swap"] >= lo:
            amt = self._spend("ub_swap", min(self.pool["ub_swap"], round(self._u(lo, hi), -3)))
            if self.net.students and self.rng.random() < u4:
                st = self._pick(self.net.students)
                if self._u3(t, amt, st.bank, memo="tuition", tuition=True):
                    self._student_pays_on(t + 3 * US_PER_DAY, st, amt)
                else:
                    self.pool["ub_swap"] += amt
                    break
            elif not self._u3(t, amt, self._pick(self.net.bosses).cny):
                self.pool["ub_swap"] += amt
                break
            t += int(self._u(1, 6) * US_PER_HOUR)
        self._handovers(t)

    def _student_pays_on(self, t: int, st: Member, amt: float) -> None:
        """A 'student' account receiving yuan 'tuition' pays it on to unrelated parties (U4)."""
        left = amt * 0.9
        k = 0
        while left > 100 and k < 5 and self._ok(t):
            nom = self.net.nominees[k % len(self.net.nominees)]
            x = round(min(left, self._u(20_000, 80_000)), 2)
            self.tx(
                self._t(t, 1, 30),
                st.bank,
                nom.bank,
                x,
                "wire",
                memo="gift",
                stage="layering",
                ind=["U4"],
                typ="u4_payon",
            )
            left -= x
            k += 1
            t += US_PER_DAY

    def _handovers(self, t: int) -> None:
        """The agents hand the cash to VIP clients late at night; they buy in and repay in yuan."""
        ub = self.cfg["ub"]
        cadence = ub.get("cadence_days")
        while self.agent_pool >= self.next_handover:
            if cadence:
                if self.next_due > t + 3 * US_PER_DAY:
                    return
                t = max(t, self.next_due)
            day = (t - self.t0) // US_PER_DAY
            ts = self.t0 + day * US_PER_DAY + int(self._u(22, 27.5) * US_PER_HOUR)
            if ts < t:
                ts += US_PER_DAY
            repay_ts = self._t(ts, 20, 70)
            if not self._ok(repay_ts + 3 * US_PER_HOUR):
                return
            amt = self.next_handover
            agent = self._pick(self.net.agents)
            vip = self._pick(self.net.vips)
            ind = ["U1", "C2", "C3"]
            self.tx(
                ts,
                agent.cash,
                vip.patron,
                amt,
                "cash",
                denom=20,
                source="surveillance",
                stage="placement",
                ind=ind,
                typ="vip_handover",
            )
            casino_visit(
                self.b, self.rng, net=self.nid, ts=ts + int(self._u(0.2, 1.5) * US_PER_HOUR), amount=amt,
                party=vip.parties["casino"], patron=vip.patron, houses=self.inst.casino_house,
                casino_names=self.casino_names, casino_p=self.laundering_casino_p,
                delivered_by=agent.parties["casino"], extra=("C2", "C3"),
                split_under=self.iv.cash_cap(ts), third_party=self._third_party(),
            )  # fmt: skip
            parts = int(self.rng.integers(2, 6))
            shares = self.rng.dirichlet(np.ones(parts))
            paid = 0.0
            legs = []
            for j in range(parts):
                x = round(amt * shares[j], 2) if j < parts - 1 else round(amt - paid, 2)
                x_cny = round(x / self.rate_cny, 2)
                legs.append(x_cny * self.rate_cny)
                paid += round(x_cny * self.rate_cny, 2)
            self.txs(
                [repay_ts + j * US_PER_HOUR // 2 for j in range(parts)],
                vip.cny,
                [self._payout() for _ in range(parts)],
                legs,
                "wire",
                currency="CNY",
                rate=self.rate_cny,
                stage="layering",
                ind=["C3"],
                typ="vip_repayment",
            )
            # the underground bank absorbs the rounding of the yuan legs so the swap balances
            self.agent_pool -= amt
            self.next_handover = self._handover_amount()
            if cadence:
                self.next_due = ts + int(cadence * self._u(0.8, 1.2) * US_PER_DAY)
            t = ts + US_PER_HOUR

    def _third_party(self) -> tuple[int, int] | None:
        if self.net.nominees and self.rng.random() < float(self.cfg.get("third_party_cheque_p", 0.1)):
            nom = self._pick(self.net.nominees)
            return nom.parties["bank"], nom.bank
        return None

    def _ub_msb(self, t: int) -> None:
        """Cash deposited by many depositors into the MSB front, wired out to payout accounts (U2)."""
        if self.net.msb_front is None:
            self.pool["structuring"] += self.pool["ub_msb"]
            self.pool["ub_msb"] = 0.0
            return
        amt = self._spend("ub_msb", self.pool["ub_msb"])
        t_end = self._t(t, 60, 80)
        if not self._ok(t_end + 72 * US_PER_HOUR):
            self.pool["ub_msb"] += amt
            return
        depositors = [m.cash for m in self.net.collectors] + [m.cash for m in self.net.agents]
        left, k, tt = amt, 0, self._t(t, 1, 3)
        while left > 0.5:
            x = round(min(left, self._u(5_000, 45_000)), 2)
            dep = depositors[k % len(depositors)]
            if dep != self.net.stash:
                self.tx(
                    tt,
                    self.net.stash,
                    dep,
                    x,
                    "cash",
                    denom=20,
                    source="surveillance",
                    stage="placement",
                    typ="cash_run",
                )
            self.tx(
                self._t(tt, 0.5, 3),
                dep,
                self.net.msb_front,
                x,
                "cash",
                denom=20,
                stage="placement",
                ind=["U2", "G1"],
                typ="msb_deposit",
            )
            left = round(left - x, 2)
            k += 1
            tt = self._t(tt, 0.2, 2)
        wired = amt * (1 - float(self.cfg["ub"].get("msb_fee", 0.01)))
        tw = self._t(tt, 6, 30)
        while wired > 0.5:
            x = round(min(wired, self._u(10_000, 60_000)), 2)
            pay = self._payout()
            self.tx(
                tw,
                self.net.msb_front,
                pay,
                x,
                "wire",
                currency="CNY",
                rate=self.rate_cny,
                memo="trade settlement",
                stage="layering",
                ind=["U2", "G2", "S2"] if x >= 9_000 else ["U2", "G2"],
                typ="msb_wire",
            )
            self.tx(
                self._t(tw, 6, 40),
                pay,
                self._pick(self.net.bosses).cny,
                x * 0.999,
                "wire",
                currency="CNY",
                rate=self.rate_cny,
                stage="layering",
                ind=["G1"],
                typ="payout_forward",
            )
            wired = round(wired - x, 2)
            tw = self._t(tw, 0.1, 1)
