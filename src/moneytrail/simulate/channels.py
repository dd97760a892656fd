"""How one network's drug cash moves: supply, street sales, collection, then laundering channels.

The loop runs in time order over collection rounds. Each round the dealers' takings reach the
stash house; a share pays the suppliers for the next shipment, the rest is earmarked to the
channels by the network's weights (shifted by interventions in force at that date). A channel
only spends cash that has reached the stash before it moves, so no trafficker account ever goes
below zero, and money is neither created nor lost: every dollar of street revenue ends up
placed, held, kept by the underground bank as its fee, or sent back to China.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from moneytrail.simulate.book import US_PER_DAY, US_PER_HOUR, Book
from moneytrail.simulate.flow_assets import AssetFlows
from moneytrail.simulate.flow_cash import CashFlows
from moneytrail.simulate.flow_ub import UndergroundBankFlows
from moneytrail.simulate.interventions import Interventions
from moneytrail.simulate.legit_world import Institutions
from moneytrail.simulate.network import Network

CHANNEL_NAMES = (
    "ub_swap", "ub_msb", "structuring", "layering", "casino_proxy", "drafts", "real_estate", "trade", "cards", "cars", "online",
)  # fmt: skip
T1_GOODS = (
    ("2106.90", "food supplements"),
    ("8443.99", "printer parts"),
    ("3215.19", "ink cartridges"),
    ("3304.99", "beauty powder"),
)
T4_GOODS = (("9503.00", "plastic toys"), ("6702.90", "artificial flowers"), ("3926.90", "plastic parts"))
T5_GOODS = (("8479.30", "tablet press machine"), ("8422.30", "capsule filling machine"))


class Flows(UndergroundBankFlows, CashFlows, AssetFlows):
    """Generates every row of one network over the simulated window."""

    def __init__(
        self,
        book: Book,
        net: Network,
        inst: Institutions,
        params: dict,
        iv: Interventions,
        rng: np.random.Generator,
        t0: int,
        days: int,
        scale: float,
        pf,
    ):
        self.b, self.net, self.inst, self.p, self.iv, self.rng = book, net, inst, params, iv, rng
        self.t0, self.days, self.end = t0, days, t0 + days * US_PER_DAY
        self.scale = scale
        self.pf = pf
        self.cfg = net.cfg
        self.nid = net.nid
        self.rate_cny = params["cny_rate"]
        self.rate_usd = params["usd_rate"]
        self.pool: dict[str, float] = defaultdict(float)
        self.agent_pool = 0.0
        self.rr = 0  # round-robin over payout accounts
        self.casino_names = list(params["casinos"])
        w = np.asarray(params["casino_weights"], dtype=float)
        largest = float(self.cfg.get("largest_casino_share", 0.6))
        rest = w[1:] / w[1:].sum() * (1 - largest)
        self.laundering_casino_p = np.concatenate([[largest], rest])
        self.next_handover = self._handover_amount()
        self.next_due = t0 + int(self.cfg.get("ub", {}).get("first_due_days", 1) * US_PER_DAY)
        self.product_kg = 0.0
        self.owed = 0.0  # supplier's share collected but not yet paid
        self.supplier_due = False
        self.flipped = False
        self.layer_k = -1  # next layering shape (-1: not drawn yet)

    # -- small helpers ------------------------------------------------------------------------
    def _u(self, a: float, b: float) -> float:
        return float(self.rng.uniform(a, b))

    def _t(self, t: int, h_min: float, h_max: float) -> int:
        return int(t + self._u(h_min, h_max) * US_PER_HOUR)

    def _times(self, t: int, h_min: float, h_max: float, n: int) -> list[int]:
        """``n`` times like ``n`` calls of :meth:`_t` (the same draws, in one step)."""
        span = h_max - h_min
        return [int(t + (h_min + r * span) * US_PER_HOUR) for r in self.rng.randoms(n)]

    def _pick(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def _ok(self, t: int) -> bool:
        return t < self.end - US_PER_HOUR

    def tx(self, ts, src, dst, amt, channel, *, stage, ind=(), typ=None, **kw) -> int:
        return self.b.txn(
            ts,
            src,
            dst,
            amt,
            channel,
            network=self.nid,
            indicators=list(ind),
            stage=stage,
            typology=typ,
            **kw,
        )

    def _shell_deposit(self, ts: int, shell_account: int, amt: float) -> int:
        """The network's cash deposited into a shell company's account as its 'sales'."""
        return self.tx(
            ts, self.net.stash, shell_account, amt, "cash", denom=20, memo="sales deposit",
            stage="placement", typ="shell_deposit",
        )  # fmt: skip

    def txs(self, ts, src, dst, amt, channel, *, stage, ind=(), typ=None, **kw) -> None:
        """Several rows at once (see :meth:`Book.txns`): the rows :meth:`tx` would add one by one."""
        self.b.txns(
            ts,
            src,
            dst,
            amt,
            channel,
            network=self.nid,
            indicators=list(ind),
            stage=stage,
            typology=typ,
            **kw,
        )

    def _payout(self) -> int:
        acct = self.net.payout[self.rr % len(self.net.payout)]
        self.rr += 1
        return acct

    def _handover_amount(self) -> float:
        ub = self.cfg.get("ub", {})
        return round(self._u(ub.get("handover_min", 150_000), ub.get("handover_max", 300_000)), -3)

    # -- the loop -----------------------------------------------------------------------------
    def run(self) -> None:
        cfg, rng = self.cfg, self.rng
        price = float(cfg["price_cad_per_kg"])
        cost_ratio = float(cfg["supplier_usd_per_kg"]) * self.rate_usd / price
        ship_every = int(cfg.get("ship_every_days", 14))
        collect_every = int(cfg.get("collect_every_days", 3))
        keep = float(cfg.get("dealer_keep", 0.05))
        kg_day = float(cfg["kg_per_month"]) * (self.scale if cfg.get("scale_volume", True) else 1.0) / 30.4
        uncollected = np.zeros(len(self.net.dealers))
        dealer_cash = np.asarray([m.cash for m in self.net.dealers], np.int64)
        gross_since = 0.0
        self._history()
        for s in range(0, self.days, ship_every):
            n_days = min(ship_every, self.days - s)
            kg = kg_day * n_days * self.iv.supply_factor(self.t0 + s * US_PER_DAY)
            self.product_kg += kg
            self._shipment(self.t0 + s * US_PER_DAY + 8 * US_PER_HOUR, kg, s // ship_every)
            # the product sold since the last shipment is paid for once, when the next one arrives
            self.supplier_due = s > 0
            revenue = kg * price
            # daily takings per dealer, normalised so the period's sales equal the product's value
            w = rng.gamma(2.0, 1.0, size=(n_days, len(self.net.dealers)))
            w *= revenue / w.sum()
            for d in range(n_days):
                day = s + d
                t_day = self.t0 + day * US_PER_DAY
                # every dealer's takings of the day in one step (cents rounded as round() does)
                takings = np.array([round(x, 2) for x in w[d].tolist()])
                sold = np.flatnonzero(takings >= 1)
                amts = takings[sold]
                self.txs(
                    t_day + 20 * US_PER_HOUR,
                    self.net.street,
                    dealer_cash[sold],
                    amts,
                    "cash",
                    denom=20,
                    source="surveillance",
                    stage="supply",
                    typ="drug_sale",
                )
                uncollected[sold] += amts
                # summed in dealer order, as the takings came in
                for amt in amts.tolist():
                    gross_since += amt
                if (day + 1) % collect_every == 0 or day == self.days - 1:
                    t_c = t_day + 22 * US_PER_HOUR
                    batch = self._collect(t_c, uncollected, keep)
                    if batch > 0:
                        owed = min(batch, gross_since * cost_ratio)
                        self._round(t_c + 3 * US_PER_HOUR, batch, owed, last=day == self.days - 1)
                    gross_since = 0.0
        # charges the cash did not reach in time are still on the land title, unfunded in the window
        self._fund_cluster(self.end, flush=True)

    def _collect(self, t: int, uncollected: np.ndarray, keep: float) -> float:
        """Dealers hand their takings (less their cut) to collectors, collectors to the stash."""
        per_collector: dict[int, float] = defaultdict(float)
        amts = np.round(uncollected * (1 - keep), 2)
        paid = np.flatnonzero(amts >= 1)
        collectors = [c.cash for c in self.net.collectors]
        to = [collectors[i % len(collectors)] for i in paid.tolist()]
        self.txs(
            self._times(t, 0, 1, len(paid)),
            [self.net.dealers[i].cash for i in paid.tolist()],
            to,
            amts[paid],
            "cash",
            denom=20,
            source="surveillance",
            stage="supply",
            typ="collection",
        )
        for acct, i in zip(to, paid.tolist(), strict=True):
            per_collector[acct] += amts[i]
        uncollected[paid] = 0.0
        total = 0.0
        for acct, amt in per_collector.items():
            self.tx(
                self._t(t, 1.5, 2.5),
                acct,
                self.net.stash,
                round(amt, 2),
                "cash",
                denom=20,
                source="surveillance",
                stage="supply",
                typ="collection",
            )
            total += round(amt, 2)
        return round(total, 2)

    def _round(self, t: int, batch: float, supplier: float, last: bool = False) -> None:
        supplier = round(supplier, 2)
        # the supplier's share waits at the stash until one payment per shipment (whatever the
        # scale, payments keep the size of a shipment's cost rather than of a collection round's)
        self.owed = round(self.owed + supplier, 2)
        if self.supplier_due or last:
            self._pay_supplier(t, self.owed)
            self.owed, self.supplier_due = 0.0, False
        rest = batch - supplier
        for ch, w in self.iv.weights(self.cfg["channels"], t, has_ub=bool(self.net.payout)).items():
            self.pool[ch] += rest * w
        for ch in CHANNEL_NAMES:
            if self.pool[ch] > 1:
                getattr(self, f"_{ch}")(t)

    def _spend(self, ch: str, amt: float) -> float:
        amt = round(min(amt, self.pool[ch]), 2)
        self.pool[ch] -= amt
        return amt

    # -- supply ---------------------------------------------------------------------------------
    def _shipment(self, ts: int, kg: float, k: int) -> None:
        b, net = self.b, self.net
        sup = net.suppliers[k % 2].parties["customs"]
        if k % 2 == 0:
            hs, desc = self._pick(T4_GOODS)
            sid = b.shipments.add(
                ts=ts,
                mode="container",
                shipper=sup,
                consignee=net.shells[0].parties["customs"],
                origin="CN",
                hs=hs,
                desc=desc,
                value=round(self._u(8_000, 25_000), 0),
                weight=round(kg + self._u(2_000, 9_000), 1),
            )
            b.label("shipment", f"M{sid:08d}", ["T4"], self.nid, "supply")
        else:
            # small parcels: at most 4.5 kg of product each (plus packing, under 5 kg), however large the shipment
            parcels = max(1, int(np.ceil(kg / 4.5)))
            for j in range(parcels):
                hs, desc = self._pick(T1_GOODS)
                mule = net.mules[(k + j) % len(net.mules)]
                sid = b.shipments.add(
                    ts=ts + j * US_PER_HOUR,
                    mode="mail" if j % 2 == 0 else "courier",
                    shipper=sup,
                    consignee=mule.parties["customs"],
                    origin="CN",
                    hs=hs,
                    desc=desc,
                    value=round(self._u(30, 200), 0),
                    weight=round(kg / parcels + self._u(0.1, 0.5), 2),
                )
                b.label("shipment", f"M{sid:08d}", ["T1"], self.nid, "supply")
        if k % 4 == 1:
            hs, desc = self._pick(T5_GOODS)
            sid = b.shipments.add(
                ts=ts + 2 * US_PER_DAY,
                mode="courier",
                shipper=net.suppliers[1].parties["customs"],
                consignee=net.shells[0].parties["customs"],
                origin="CN",
                hs=hs,
                desc=desc,
                value=round(self._u(3_000, 12_000), 0),
                weight=round(self._u(80, 400), 1),
            )
            b.label("shipment", f"M{sid:08d}", ["T5"], self.nid, "supply")

    def _pay_supplier(self, t: int, amt: float) -> None:
        """Pay the supplier for the next shipment: through the underground bank or a shell company."""
        if amt < 1:
            return
        sup = self._pick(self.net.suppliers).cny
        if self.net.payout and self.rng.random() < 0.5:
            self._u3(t, amt, sup, stage="supply")
            return
        shell, hk = self.net.shells[0], self.net.shells[1]
        self._shell_route(
            self._t(t, 8, 14),
            amt,
            shell,
            hk,
            lambda: sup,
            stage="supply",
            invoice_ind=["T3", "S2"] if amt >= 9_000 else ["T3"],
            memo="chemical raw materials",
            typ="supplier_payment",
        )
