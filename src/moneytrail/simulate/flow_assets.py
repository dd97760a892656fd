"""Integration channels of a network's flows: cars (R6), nominee purchases and flips (R1, R2, R5),
the buying spree (R3), the private-lender cluster (R4, G8) and trade payments (T3).

A mixin of :class:`moneytrail.simulate.channels.Flows`.
"""

from __future__ import annotations

import numpy as np

from moneytrail.simulate.book import US_PER_DAY, US_PER_HOUR
from moneytrail.simulate.identity import record
from moneytrail.simulate.legit_world import add_property
from moneytrail.simulate.network import Member


class AssetFlows:
    """Channels that turn cash into property, vehicles and trade payments."""

    def _cars(self, t: int) -> None:
        """Luxury cars bought with cash-funded bank drafts, for export (R6)."""
        while self.pool["cars"] >= 60_000:
            amt = self._spend("cars", round(self._u(60_000, min(250_000, self.pool["cars"])), -2))
            nom = self._pick(self.net.nominees)
            tt = self._t(t, 9, 12)
            if not self._ok(tt + 3 * US_PER_DAY):
                self.pool["cars"] += amt
                return
            self.tx(
                tt,
                self.net.stash,
                nom.bank,
                amt,
                "cash",
                denom=20,
                memo="deposit",
                stage="placement",
                typ="car_funding",
            )
            dealer = self._pick(self.inst.car_dealers)
            ts = self._t(tt, 20, 40)
            self.tx(
                ts,
                nom.bank,
                dealer,
                amt,
                "bank_draft",
                memo="vehicle purchase",
                stage="integration",
                ind=["R6"],
                typ="car_purchase",
            )
            prop = add_property(self.b, self.pf, amt, "vehicle")
            seller = self.b.accounts.cols["holder"][dealer]
            tid = self.b.transfers.add(
                property=prop,
                ts=ts,
                buyer=nom.parties["land_title"],
                seller=seller,
                price=amt,
                mortgage=0.0,
                lender=None,
                lender_kind="none",
                cash=amt,
                deposit_payer=None,
                via_trust=False,
                ref=None,
            )
            self.b.label("property_transfer", f"X{tid:08d}", ["R6"], self.nid, "integration")
            t = tt + US_PER_DAY

    def _real_estate(self, t: int) -> None:
        """Nominee purchases paid in cash through a lawyer's trust account (R1, R2), some flipped
        within months at a higher price (R5); in-window charges of the lender cluster are funded here."""
        re_cfg = self.cfg.get("real_estate", {})
        reserve = self._fund_cluster(t)
        while self.pool["real_estate"] - reserve >= float(re_cfg.get("min_price", 400_000)):
            price = round(
                min(
                    self.pool["real_estate"] - reserve,
                    self._u(re_cfg.get("min_price", 400_000), re_cfg.get("max_price", 1_800_000)),
                ),
                -3,
            )
            tt = self._t(t, 9, 12)
            if not self._ok(tt + 5 * US_PER_DAY):
                return
            self._spend("real_estate", price)
            nom = self._pick(self.net.nominees)
            self._buy(tt, nom, price, ["R1", "R2"])
            # the first purchase of a network is always resold quickly, so every world shows R5
            if not self.flipped or self.rng.random() < float(re_cfg.get("flip_p", 0.2)):
                self.flipped = self._flip(tt, nom, price) or self.flipped
            t = tt + US_PER_DAY

    def _flip(self, tt: int, nom: Member, price: float) -> bool:
        """Resold within months to an outside buyer at a much higher price (R5)."""
        room = (self.end - tt) // US_PER_DAY - 2
        delay = min(int(self._u(20, 110)), room)
        if delay < 10:
            return False
        ts = tt + delay * US_PER_DAY

        resale = round(price * self._u(1.25, 1.45), -3)
        buyer = self.pf.person(chinese=0.5, occupation="employee", income=float(self._u(60_000, 150_000)))
        bb = record(self.b, self.pf.rng, buyer, "bank")
        ba = self.b.account(
            holder=bb,
            institution="Lions Gate Bank",
            itype="bank",
            source="bank",
            opened_at=self.t0 - 2000 * US_PER_DAY,
            role="home_buyer",
        )
        bl = record(self.b, self.pf.rng, buyer, "land_title")
        trust = self._pick(self.inst.lawyer_trusts)
        self.tx(
            ts - US_PER_DAY,
            ba,
            trust,
            resale,
            "wire",
            memo="purchase",
            stage="integration",
            ind=["R5"],
            typ="flip",
        )
        self.tx(
            ts,
            trust,
            nom.bank,
            resale,
            "wire",
            memo="sale proceeds",
            stage="integration",
            ind=["R5"],
            typ="flip",
        )
        prop = self.b.transfers.cols["property"][-1]
        tid = self.b.transfers.add(
            property=prop,
            ts=ts,
            buyer=bl,
            seller=nom.parties["land_title"],
            price=resale,
            mortgage=round(resale * 0.7, -3),
            lender=self.inst.banks[0],
            lender_kind="bank",
            cash=0.0,
            deposit_payer=None,
            via_trust=True,
            ref=None,
        )
        self.b.label("property_transfer", f"X{tid:08d}", ["R5"], self.nid, "integration")
        return True

    def _fund(self, t: int, nom: Member, amt: float) -> None:
        self._cash_deposits(t, nom.bank, amt, (50_000, 250_000), (0.5, 3), "property_funding")

    def _buy(self, tt: int, nom: Member, price: float, inds: list[str], kind: str = "townhouse") -> int:
        self._fund(tt, nom, price)
        trust = self._pick(self.inst.lawyer_trusts)
        ts = tt + 2 * US_PER_DAY
        self.tx(
            ts - US_PER_DAY,
            nom.bank,
            trust,
            price,
            "bank_draft",
            memo="purchase",
            stage="integration",
            ind=inds,
            typ="property_purchase",
        )
        seller_p = self.pf.person(chinese=0.4)

        sb = record(self.b, self.pf.rng, seller_p, "bank")
        sa = self.b.account(
            holder=sb,
            institution="Pacific Coast Bank",
            itype="bank",
            source="bank",
            opened_at=self.t0 - 3000 * US_PER_DAY,
            role="home_seller",
        )
        sl = record(self.b, self.pf.rng, seller_p, "land_title")
        self.tx(
            ts,
            trust,
            sa,
            price,
            "wire",
            memo="sale proceeds",
            stage="integration",
            ind=inds,
            typ="property_purchase",
        )
        prop = add_property(self.b, self.pf, price, kind)
        boss_lt = self.net.bosses[0].parties["bank"]  # the deposit comes from a relative abroad (R2)
        tid = self.b.transfers.add(
            property=prop,
            ts=ts,
            buyer=nom.parties["land_title"],
            seller=sl,
            price=price,
            mortgage=0.0,
            lender=None,
            lender_kind="none",
            cash=price,
            deposit_payer=boss_lt,
            via_trust=True,
            ref=None,
        )
        self.b.label("property_transfer", f"X{tid:08d}", inds, self.nid, "integration")
        return tid

    # -- the lender cluster and the buying spree (land-title history plus in-window funding) ---------
    def _history(self) -> None:
        re_cfg = self.cfg.get("real_estate", {})
        # (day, k, amount, lender index); k < 0 marks a float paid to a lender with no charge in the window
        self.cluster_todo: list[tuple[int, int, float, int]] = []
        self._cluster_i = 0
        n_props = int(re_cfg.get("cluster_properties", 0))
        if n_props and self.net.lenders:
            span = int(re_cfg.get("cluster_span_days", 1095))
            total = float(re_cfg.get("cluster_total_cad", 10_000_000))
            w = self.rng.lognormal(0, 0.3, n_props)
            amounts = np.round(w / w.sum() * total, -2)
            amounts[-1] = round(total - amounts[:-1].sum(), 2)
            days = np.sort(self.rng.integers(-span + self.days, self.days, n_props))
            n_lenders = len(self.net.lenders)
            for k in range(n_props):
                self.cluster_todo.append((int(days[k]), k, float(amounts[k]), k % n_lenders))
            # the same drug cash keeps every lender of the cluster liquid: a lender with no charge
            # in the window still receives cash deposits for its next advance
            active = {li for day, _, _, li in self.cluster_todo if day >= 0}
            lo, hi = re_cfg.get("lender_float_min", 50_000), re_cfg.get("lender_float_max", 250_000)
            for li in range(n_lenders):
                if li not in active:
                    day = int(self.rng.integers(0, max(1, self.days - 7)))
                    self.cluster_todo.append((day, -1 - li, round(self._u(lo, hi), -2), li))
            self.cluster_todo.sort()
        spree = int(re_cfg.get("spree_properties", 0))
        if spree and self.net.nominees:
            total = float(re_cfg.get("spree_total_cad", 4_100_000))
            span = int(re_cfg.get("spree_span_days", 700))
            w = self.rng.lognormal(0, 0.2, spree)
            prices = np.round(w / w.sum() * total, -2)
            prices[-1] = round(total - prices[:-1].sum(), 2)
            days = np.sort(self.rng.integers(-span + self.days, self.days, spree))
            nom = self.net.nominees[0]
            for k in range(spree):
                ts = self.t0 + int(days[k]) * US_PER_DAY + 11 * US_PER_HOUR
                prop = add_property(self.b, self.pf, float(prices[k]), "row_house")
                tid = self.b.transfers.add(
                    property=prop,
                    ts=ts,
                    buyer=nom.parties["land_title"],
                    seller=None,
                    price=float(prices[k]),
                    mortgage=0.0,
                    lender=None,
                    lender_kind="none",
                    cash=float(prices[k]),
                    deposit_payer=None,
                    via_trust=True,
                    ref=None,
                )
                self.b.label("property_transfer", f"X{tid:08d}", ["R3"], self.nid, "integration")

    def _fund_cluster(self, t: int, flush: bool = False) -> float:
        """Charges of the private-lender cluster: before the window they are land-title history;
        inside it, the network's stash pays cash into the lender's bank account and the lender
        advances it as a mortgage through a lawyer's trust account (R4, G8). Lenders with no charge
        in the window receive a cash float. Returns the cash the channel's other purchases must leave
        for the next charge or float of the coming 30 days (all of it once that one is due)."""
        while self._cluster_i < len(self.cluster_todo):
            day, k, amount, li = self.cluster_todo[self._cluster_i]
            ts = self.t0 + day * US_PER_DAY + 11 * US_PER_HOUR
            if day >= 0 and ts > t + 30 * US_PER_DAY:
                return 0.0
            lender = self.net.lenders[li]
            funded = day >= 0 and self.pool["real_estate"] >= amount and self._ok(ts + US_PER_DAY)
            if k < 0:
                if ts > t and not flush:
                    return amount  # the other purchases leave the cash for the coming float
                # the charges come first: a float leaves the cash for the next charge of the month
                nxt = next((e for e in self.cluster_todo[self._cluster_i + 1 :] if e[1] >= 0), None)
                if nxt is not None and self.t0 + nxt[0] * US_PER_DAY <= t + 30 * US_PER_DAY:
                    funded = funded and self.pool["real_estate"] >= amount + nxt[2]
                if not funded and not flush and day + 7 < self.days - 7:
                    # a float gives way to the charges: without the cash on its day it waits a week
                    rest = [*self.cluster_todo[self._cluster_i + 1 :], (day + 7, k, amount, li)]
                    self.cluster_todo[self._cluster_i :] = sorted(rest)
                    continue
                if funded:
                    self._spend("real_estate", amount)
                    self._lender_deposits(max(t, ts), lender, amount)
                self._cluster_i += 1
                continue
            if day >= 0 and not funded and not flush:
                return float("inf") if ts <= t else amount  # wait for the cash
            price = round(amount / self._u(0.5, 0.75), -3)
            borrower_p = self.pf.person(
                chinese=0.7, occupation="employee", income=float(self._u(40_000, 90_000))
            )
            bl = record(self.b, self.pf.rng, borrower_p, "land_title", role="borrower", network=self.nid)
            prop = add_property(self.b, self.pf, price, "detached")
            if funded:
                self._spend("real_estate", amount)
                tt = self._lender_deposits(max(t, ts - 3 * US_PER_DAY), lender, amount)
                ts = max(ts, tt + US_PER_HOUR)
                trust = self._pick(self.inst.lawyer_trusts)
                self.tx(
                    ts,
                    lender.bank,
                    trust,
                    amount,
                    "mortgage",
                    memo="private mortgage advance",
                    stage="integration",
                    ind=["R4", "G8"],
                    typ="private_mortgage",
                )
            tid = self.b.transfers.add(
                property=prop,
                ts=ts,
                buyer=bl,
                seller=None,
                price=price,
                mortgage=amount,
                lender=lender.parties["land_title"],
                lender_kind="private",
                cash=0.0,
                deposit_payer=None,
                via_trust=True,
                ref=None,
            )
            self.b.label("property_transfer", f"X{tid:08d}", ["R4", "G8"], self.nid, "integration")
            self._cluster_i += 1
        return 0.0

    def _lender_deposits(self, tt: int, lender: Member, amount: float) -> int:
        """Stash cash paid into a private lender's bank account in pieces; returns the last time."""
        left = amount
        while left > 0.5:
            x = round(min(left, self._u(60_000, 200_000)), 2)
            self.tx(
                tt,
                self.net.stash,
                lender.bank,
                x,
                "cash",
                denom=20,
                memo="deposit",
                stage="placement",
                ind=["R4", "G8"],
                typ="lender_funding",
            )
            left = round(left - x, 2)
            tt = self._t(tt, 0.5, 4)
        return tt

    def _shell_route(self, t1, amt, shell, hk, beneficiary, *, stage, invoice_ind, memo, typ) -> None:
        """Cash deposited at ``t1`` into the shell importer, wired to its Hong Kong front as an
        'invoice' and on in yuan to ``beneficiary()`` (drawn after the last leg's time) (T3)."""
        self._shell_deposit(t1, shell.bank, amt)
        t2 = self._t(t1, 20, 30)
        self.tx(
            t2,
            shell.bank,
            hk.bank,
            amt,
            "wire",
            currency="USD",
            rate=self.rate_usd,
            memo="invoice payment",
            stage=stage,
            ind=invoice_ind,
            typ=typ,
        )
        t3 = self._t(t2, 4, 30)
        self.tx(
            t3,
            hk.bank,
            beneficiary(),
            amt,
            "wire",
            currency="CNY",
            rate=self.rate_cny,
            memo=memo,
            stage=stage,
            ind=["T3"],
            typ=typ,
        )

    # -- trade -----------------------------------------------------------------------------------
    def _trade(self, t: int) -> None:
        """Profit sent back as 'invoice' payments through the shell importer and its Hong Kong front (T3)."""
        while self.pool["trade"] >= 5_000:
            amt = self._spend("trade", min(self.pool["trade"], round(self._u(20_000, 120_000), -2)))
            shell, hk = self.net.shells[0], self.net.shells[1]
            t1 = self._t(t, 8, 14)
            if not self._ok(t1 + 4 * US_PER_DAY):
                self.pool["trade"] += amt
                return
            self._shell_route(
                t1,
                amt,
                shell,
                hk,
                lambda: self._pick(self.net.bosses).cny,
                stage="layering",
                invoice_ind=["T3", "S2"],
                memo="goods",
                typ="trade_payment",
            )
            t = t1 + US_PER_DAY
