"""Cash channels of a network's flows: structuring (S1, S4), graph-shaped layering (G3-G6, T2),
proxy players (C6, C7, C8), bank drafts to casinos (C9), online gambling (C10) and cards (U5).

A mixin of :class:`moneytrail.simulate.channels.Flows`.
"""

from __future__ import annotations

from moneytrail.simulate.book import US_PER_DAY, US_PER_HOUR
from moneytrail.simulate.casino import casino_visit
from moneytrail.simulate.network import Member


class CashFlows:
    """Channels that place and layer cash through banks, MSBs and casinos."""

    # -- structuring and layering ---------------------------------------------------------------
    def _cash_deposits(
        self, t: int, account: int, amt: float, piece: tuple[float, float], gap_h: tuple[float, float],
        typ: str, ind=(),
    ) -> int:  # fmt: skip
        """Stash cash paid into ``account`` in whole-dollar pieces of ``piece`` (the last one
        exact), ``gap_h`` hours apart; ``ind`` marks the pieces of a split amount that stay in
        ``piece``. Returns the time after the last piece."""
        left, tt = amt, t
        low, high = piece
        while left > 0.5:
            x = round(min(left, self._u(low, high)), 0) if left > high else round(left, 2)
            near = amt > high and x >= low
            self.tx(
                tt,
                self.net.stash,
                account,
                x,
                "cash",
                denom=20,
                memo="deposit",
                stage="placement",
                ind=list(ind) if near else [],
                typ=typ,
            )
            left = round(left - x, 2)
            tt = self._t(tt, *gap_h)
        return tt

    def _deposits_under(self, t: int, mule: Member, amt: float, ind=("S1",)) -> int:
        """Cash deposits just under C$10,000, several within 24 hours; returns the last time."""
        return self._cash_deposits(t, mule.bank, amt, (9_000, 9_990), (1, 7), "structured_deposit", ind)

    def _structuring(self, t: int) -> None:
        while self.pool["structuring"] >= 2_000:
            amt = self._spend("structuring", min(self.pool["structuring"], round(self._u(20_000, 38_000), 0)))
            mule = self._pick(self.net.mules)
            tt = self._deposits_under(self._t(t, 9, 12), mule, amt)
            # S4: several money services businesses within hours, each under the threshold
            t4 = self._t(tt, 14, 24)
            if not self._ok(t4 + 48 * US_PER_HOUR):
                return
            send = amt * self._u(0.5, 0.8)
            msbs = list(self.inst.msb_accounts)
            self.rng.shuffle(msbs)
            boss = self._pick(self.net.bosses).cny
            hops = min(4, len(msbs))
            x = round(send / hops, 2)
            # per hop: the time into the MSB (hour k to k+1), then the time of its wire on
            draws = self.rng.randoms(2 * hops)
            self.txs(
                [int(t4 + (k + r) * US_PER_HOUR) for k, r in enumerate(draws[0::2])],
                mule.bank,
                msbs[:hops],
                x,
                "etransfer",
                memo="remittance",
                source="msb",
                stage="layering",
                ind=["S4"],
                typ="msb_hop",
            )
            self.txs(
                [int(t4 + (20 + r * 20) * US_PER_HOUR) for r in draws[1::2]],
                msbs[:hops],
                boss,
                x,
                "wire",
                currency="CNY",
                rate=self.rate_cny,
                memo="family support",
                source="msb",
                stage="layering",
                ind=["S4"],
                typ="msb_hop",
            )
            t = t4

    def _layering(self, t: int) -> None:
        """Graph shapes: a chain with small deductions (G5), scatter-gather (G3), a cycle through
        shell companies (G4), and a bipartite layer of mules paying students (G6); T2 fan-in abroad."""
        net = self.net
        # each shape moves C$40,000-90,000 whatever the scale: a smaller remainder waits for more cash
        while self.pool["layering"] >= 40_000:
            amt = self._spend("layering", min(self.pool["layering"], round(self._u(40_000, 90_000), 0)))
            tt = self._t(t, 9, 11)
            if not self._ok(tt + 6 * US_PER_DAY):
                self.pool["layering"] += amt
                return
            # the shapes take turns from a random first one, so a small world still shows each
            if self.layer_k < 0:
                self.layer_k = int(self.rng.integers(5))
            shape = self.layer_k % 5
            self.layer_k += 1
            mules = list(net.mules)
            if shape == 0:  # G5 chain: A -> B -> C -> boss, small fee and short delay per hop
                a = mules[0]
                end = self._deposits_under(tt, a, amt, ind=())
                x, prev, ts = amt, a.bank, end
                # two further accounts, all distinct: a network with fewer mules passes the money
                # through its shell companies instead (a transfer to oneself is no hop)
                hops = [m.bank for m in mules[1:3]] + [sh.bank for sh in net.shells[:2]]
                for nxt in hops[:2]:
                    x = round(x * (1 - self._u(0.01, 0.03)), 2)
                    ts = self._t(ts, 1, 8)
                    self.tx(ts, prev, nxt, x, "eft", stage="layering", ind=["G5"], typ="chain")
                    prev = nxt
                x = round(x * (1 - self._u(0.01, 0.03)), 2)
                self.tx(
                    self._t(ts, 1, 8),
                    prev,
                    self._pick(net.bosses).cny,
                    x,
                    "wire",
                    currency="CNY",
                    rate=self.rate_cny,
                    stage="layering",
                    ind=["G5", "S2"] if x >= 9_000 else ["G5"],
                    typ="chain",
                )
            elif shape == 1:  # G3 scatter-gather into the shell company
                k = min(4, len(mules))
                shell = net.shells[2].bank
                ts = tt
                for m in mules[:k]:
                    x = round(amt / k, 2)
                    ts = self._t(ts, 0.5, 2)
                    self.tx(
                        ts,
                        net.stash,
                        m.bank,
                        x,
                        "cash",
                        denom=20,
                        stage="placement",
                        ind=["G3"],
                        typ="scatter",
                    )
                    self.tx(
                        self._t(ts, 20, 30),
                        m.bank,
                        shell,
                        x,
                        "eft",
                        memo="consulting",
                        stage="layering",
                        ind=["G3"],
                        typ="gather",
                    )
            elif (
                shape == 2
            ):  # G4 cycle: shell -> Hong Kong -> second shell -> shell, the money stays with the shells
                s0, hk, s2 = net.shells[0].bank, net.shells[1].bank, net.shells[2].bank
                self._shell_deposit(tt, s0, amt)
                x = round(amt * 0.99, 2)
                ts = self._t(tt, 20, 30)
                self.tx(
                    ts,
                    s0,
                    hk,
                    x,
                    "wire",
                    currency="USD",
                    rate=self.rate_usd,
                    memo="invoice payment",
                    stage="layering",
                    ind=["G4", "S2"] if x >= 9_000 else ["G4"],
                    typ="cycle",
                )
                ts = self._t(ts, 20, 30)
                self.tx(
                    ts,
                    hk,
                    s2,
                    x,
                    "wire",
                    currency="USD",
                    rate=self.rate_usd,
                    memo="consulting fees",
                    stage="layering",
                    ind=["G4", "S2"] if x >= 9_000 else ["G4"],
                    typ="cycle",
                )
                self.tx(
                    self._t(ts, 20, 30),
                    s2,
                    s0,
                    x,
                    "eft",
                    memo="loan repayment",
                    stage="layering",
                    ind=["G4"],
                    typ="cycle",
                )
            elif shape == 3 and net.students:  # G6 bipartite layer: every mule pays every student
                k = min(3, len(mules))
                per = round(amt / (k * len(net.students)), 2)
                ts = tt
                for m in mules[:k]:
                    self.tx(
                        ts,
                        net.stash,
                        m.bank,
                        round(per * len(net.students), 2),
                        "cash",
                        denom=20,
                        stage="placement",
                        typ="layer_funding",
                    )
                    times = []
                    for _ in net.students:
                        ts = self._t(ts, 0.5, 3)
                        times.append(ts)
                    if times:
                        self.txs(
                            times,
                            m.bank,
                            [st.bank for st in net.students],
                            per,
                            "etransfer",
                            memo="rent",
                            stage="layering",
                            ind=["G6"],
                            typ="bipartite",
                        )
            else:  # T2: many small transfers from different senders to one beneficiary in China
                boss = net.bosses[1].cny
                k = min(6, len(mules))
                ts = tt
                for j in range(k):
                    m = mules[j]
                    x = round(amt / k, 2)
                    self.tx(ts, net.stash, m.bank, x, "cash", denom=20, stage="placement", typ="t2_funding")
                    pieces = max(1, int(x // 2_500))
                    self.txs(
                        [int(ts + (2 + q + r) * US_PER_HOUR) for q, r in enumerate(self.rng.randoms(pieces))],
                        m.bank,
                        boss,
                        round(x / pieces, 2),
                        "wire",
                        currency="CNY",
                        rate=self.rate_cny,
                        memo="family support",
                        stage="layering",
                        ind=["T2", "G1"],
                        typ="fan_in_abroad",
                    )
                    ts = self._t(ts, 1, 4)
            t = tt + US_PER_DAY

    # -- casinos --------------------------------------------------------------------------------
    def _casino_proxy(self, t: int) -> None:
        """Proxy players for banned players, supplied with cash late at night (C6), buy in just under
        C$10,000 several times (C7) and cash out by cheque to a third party (C8)."""
        # a proxy is supplied C$20,000-60,000 whatever the scale, so the buy-ins split under C$10,000
        while self.pool["casino_proxy"] >= 20_000:
            amt = self._spend(
                "casino_proxy", min(self.pool["casino_proxy"], round(self._u(20_000, 60_000), -2))
            )
            proxy = self._pick(self.net.proxies)
            day = (t - self.t0) // US_PER_DAY + 1
            ts = self.t0 + day * US_PER_DAY + int(self._u(22, 26) * US_PER_HOUR)
            if not self._ok(ts + 2 * US_PER_DAY):
                self.pool["casino_proxy"] += amt
                return
            col = self._pick(self.net.collectors)
            self.tx(
                ts,
                self.net.stash,
                proxy.patron,
                amt,
                "cash",
                denom=20,
                source="surveillance",
                stage="placement",
                ind=["C6", "C2"],
                typ="proxy_supply",
            )
            casino_visit(
                self.b, self.rng, net=self.nid, ts=ts + US_PER_HOUR, amount=amt, party=proxy.parties["casino"],
                patron=proxy.patron, houses=self.inst.casino_house, casino_names=self.casino_names,
                casino_p=self.laundering_casino_p, delivered_by=col.parties["casino"], extra=("C6",),
                split_under=10_000, third_party=self._third_party() or (self.net.nominees[0].parties["bank"], self.net.nominees[0].bank),
                cash_out_to=proxy.bank, low_play_p=0.8,
            )  # fmt: skip
            t = ts + US_PER_DAY

    def _drafts(self, t: int) -> None:
        """Low-income accounts buy bank drafts with cash and pay them to casinos (C9)."""
        while self.pool["drafts"] >= 3_000:
            amt = self._spend("drafts", min(self.pool["drafts"], round(self._u(15_000, 60_000), -2)))
            mule = self._pick(self.net.mules)
            tt = self._t(t, 9, 12)
            tt = self._cash_deposits(tt, mule.bank, amt, (4_000, 15_000), (3, 20), "draft_funding")
            td = self._t(tt, 2, 20)
            if not self._ok(td + 10 * US_PER_HOUR):
                return
            c = int(self.rng.choice(len(self.inst.casino_house), p=self.laundering_casino_p))
            house = self.inst.casino_house[c]
            buy = self.tx(
                td,
                mule.bank,
                house,
                amt,
                "bank_draft",
                memo="bank draft",
                stage="placement",
                ind=["C9"],
                typ="casino_draft",
            )
            out = round(amt * self._u(0.85, 1.0), -1)
            end = self._t(td, 0.5, 3)
            payout = self.tx(
                end,
                house,
                mule.bank,
                out,
                "cheque",
                source="casino",
                stage="integration",
                ind=["C9", "C4", "S3"] if out >= 10_000 else ["C9", "C4"],
                typ="casino_cash_out",
            )
            self.b.sessions.add(
                party=mule.parties["casino"], casino=self.casino_names[c], start=td, end=end, buy_in=amt, buy_in_form="bank_draft",
                wagered=round(amt * self._u(0.05, 0.3), -1), cash_out=out, cash_out_form="cheque", payee=None, share_small=None,
                delivered_by=None, indicators="C4;C9", network=self.nid, refs=(buy, payout),
            )  # fmt: skip
            t = td + US_PER_DAY

    def _online(self, t: int) -> None:
        """E-transfers out to an online gambling site, payouts back through a processor to the same
        account (C10). Stakes keep their size at every scale: a remainder under C$3,000 waits."""
        while self.pool["online"] >= 3_000:
            amt = self._spend("online", min(self.pool["online"], round(self._u(3_000, 9_000), 0)))
            m1 = self._pick(self.net.mules)
            tt = self._t(t, 9, 12)
            if not self._ok(tt + 4 * US_PER_DAY):
                self.pool["online"] += amt
                return
            self.tx(
                tt,
                self.net.stash,
                m1.bank,
                amt,
                "cash",
                denom=20,
                memo="deposit",
                stage="placement",
                typ="online_funding",
            )
            site = self._pick(self.inst.online_gambling)
            self.tx(
                self._t(tt, 2, 10),
                m1.bank,
                site,
                amt,
                "etransfer",
                memo="online gaming",
                stage="placement",
                ind=["C10"],
                typ="online_out",
            )
            proc = self._pick(self.inst.gambling_processors)
            self.tx(
                self._t(tt, 30, 80),
                proc,
                m1.bank,
                round(amt * self._u(0.85, 0.95), 2),
                "eft",
                memo="payout",
                stage="layering",
                ind=["C10"],
                typ="online_back",
            )
            t = tt + US_PER_DAY

    # -- integration ----------------------------------------------------------------------------
    def _cards(self, t: int) -> None:
        """Cash pays down a credit card, then bulk purchases of phones and gift cards (U5)."""
        while self.pool["cards"] >= 2_000:
            amt = self._spend("cards", min(self.pool["cards"], round(self._u(5_000, 15_000), 0)))
            m = self._pick(self.net.mules)
            tt = self._t(t, 9, 12)
            if not self._ok(tt + 3 * US_PER_DAY):
                self.pool["cards"] += amt
                return
            self.tx(
                tt,
                self.net.stash,
                m.bank,
                amt,
                "cash",
                denom=20,
                memo="credit card payment",
                stage="placement",
                ind=["U5"],
                typ="card_paydown",
            )
            left, ts = amt, tt
            times, shops, spent = [], [], []
            while left > 0.5:
                x = round(min(left, self._u(1_500, 4_000)), 2)
                ts = self._t(ts, 2, 20)
                times.append(ts)
                shops.append(self._pick(self.inst.merchants_electronics))
                spent.append(x)
                left = round(left - x, 2)
            self.txs(
                times,
                m.bank,
                shops,
                spent,
                "eft",
                memo="phones bulk purchase",
                stage="integration",
                ind=["U5"],
                typ="bulk_purchase",
            )
            t = tt + US_PER_DAY
