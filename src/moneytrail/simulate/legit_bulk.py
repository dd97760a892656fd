"""The legitimate bulk: millions of ordinary transactions and casino sessions, generated per chunk
of days with numpy (no Python loop per row).

Households are paid, pay bills, send e-transfers and take cash from machines; cash-intensive
small businesses deposit their takings (sometimes close to C$10,000, honestly); Chinese-Canadian
households remit through licensed money services businesses; recreational gamblers play small and
VIP gamblers, some visiting from China, play large, a few with $20 bills. These are the false
alarms a naive rule raises.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from moneytrail.simulate.book import CHANNEL, US_PER_DAY, US_PER_HOUR, Book

SESSION_FORMS = ("cash_small", "cash_large", "cheque", "chips", "none")
BUYIN_FORMS = ("cash", "bank_draft", "cheque", "chips", "pgf_account", "other")


@dataclass
class BulkPopulation:
    """Index ranges and per-entity attributes the bulk generator draws from (all numpy arrays)."""

    households: np.ndarray  # account index of each household's chequing account
    household_bank: np.ndarray  # index into cash_counters
    household_income: np.ndarray
    household_phase: np.ndarray  # salary day modulo the pay period
    household_employer: np.ndarray  # account index of the employer
    chinese_households: np.ndarray  # positions into households
    merchants: np.ndarray  # business account indices that sell to households
    cash_businesses: np.ndarray  # business account indices with daily cash takings
    cash_business_bank: np.ndarray
    businesses: np.ndarray
    cash_counters: np.ndarray  # one cash-side account per bank
    msb_accounts: np.ndarray  # licensed money services businesses (bank accounts)
    cn_recipients: np.ndarray  # family accounts in China receiving remittances
    casino_house: np.ndarray  # house account per casino
    casino_weights: np.ndarray
    rec_patrons: np.ndarray  # patron account of each recreational gambler
    rec_parties: np.ndarray  # casino party record of each recreational gambler
    vip_patrons: np.ndarray
    vip_parties: np.ndarray


BULK_MEMOS = ("payroll", "bill payment", "e-transfer", "supplies", "remittance", "family support", "deposit")


def bulk_memos(book: Book) -> dict[str, int]:
    """The codes of the bulk generator's memos in ``book`` (coded on first call: do it before the
    book is copied to another process, so both agree on them)."""
    return {k: book.memos.code(k) for k in BULK_MEMOS}


def _day_factors(params: dict, day0: int, days: int, start_doy: int, start_dow: int) -> np.ndarray:
    """Seasonality (peak in summer and December) times the weekly rhythm, one factor per day."""
    d = np.arange(day0, day0 + days)
    doy = (start_doy + d) % 365
    season = 1.0 + params["seasonality"] * np.cos(2 * np.pi * (doy - 200) / 365)
    dow = (start_dow + d) % 7  # 0 = Monday
    weekly = np.array([0.95, 0.95, 1.0, 1.0, 1.15, 1.1, 0.85])[dow]
    return season * weekly


class BulkGenerator:
    """Generates one chunk of legitimate transactions and sessions at a time."""

    def __init__(
        self, pop: BulkPopulation, params: dict, book: Book, start_us: int, start_doy: int, start_dow: int
    ):
        self.pop = pop
        self.p = params
        self.book = book
        self.start_us = start_us
        self.start_doy = start_doy
        self.start_dow = start_dow
        self.memo = bulk_memos(book)
        self.cad = book.currencies.code("CAD")
        self.cny = book.currencies.code("CNY")
        self.ca = book.countries.code("CA")
        self.cn = book.countries.code("CN")
        self.bank = book.sources.code("bank")
        self.casino = book.sources.code("casino")
        self.msb = book.sources.code("msb")
        # households by salary phase (day modulo the pay period)
        period = int(params["salary_period_days"])
        self.by_phase = [np.flatnonzero(pop.household_phase == k) for k in range(period)]

    # -- helpers ----------------------------------------------------------------------------
    def _events(self, rng, n_entities: int, rate: float, factors: np.ndarray, day0: int):
        """Poisson counts per day -> (day index, entity position) for every event."""
        if n_entities == 0 or rate <= 0:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        counts = rng.poisson(n_entities * rate * factors)
        days = np.repeat(np.arange(day0, day0 + len(factors)), counts)
        who = rng.integers(0, n_entities, size=len(days))
        return days, who

    def _ts(self, rng, days: np.ndarray, start_h: float, span_h: float) -> np.ndarray:
        return (
            self.start_us
            + days * US_PER_DAY
            + ((start_h + rng.random(len(days)) * span_h) * US_PER_HOUR).astype(np.int64)
        )

    # -- one chunk --------------------------------------------------------------------------
    def chunk(self, rng: np.random.Generator, day0: int, days: int) -> tuple[dict, dict]:
        """Transactions and sessions of days ``[day0, day0 + days)`` as dicts of numpy arrays."""
        p, pop = self.p, self.pop
        f = _day_factors(p, day0, days, self.start_doy, self.start_dow)
        parts: list[dict] = []

        def add(
            ts,
            src,
            dst,
            amount,
            channel,
            *,
            currency=None,
            rate=1.0,
            denom=0,
            memo=0,
            source=None,
            csrc=None,
            cdst=None,
        ):
            n = len(ts)
            if n == 0:
                return
            amount = np.round(amount, 2)
            parts.append(
                {
                    "ts": ts,
                    "src": src,
                    "dst": dst,
                    "amount": amount,
                    "currency": np.full(n, currency or self.cad, np.int16),
                    "amount_cad": np.round(amount * rate, 2),
                    "channel": np.full(n, CHANNEL[channel], np.int8),
                    "denom": np.full(n, denom, np.int32) if np.isscalar(denom) else denom.astype(np.int32),
                    "csrc": np.full(n, csrc or self.ca, np.int16),
                    "cdst": np.full(n, cdst or self.ca, np.int16),
                    "memo": np.full(n, memo, np.int32),
                    "source": np.full(n, source or self.bank, np.int16),
                }
            )

        H = len(pop.households)
        # salaries: each household on its own fortnightly phase
        period = int(p["salary_period_days"])
        day_list = range(day0, day0 + days)
        paid = [self.by_phase[d % period] for d in day_list]
        who = np.concatenate(paid)
        if len(who):
            ts = self._ts(rng, np.repeat(np.asarray(day_list), [len(w) for w in paid]), 1.0, 5.0)
            amt = pop.household_income[who] / (365 / period) * rng.lognormal(0, 0.03, len(who))
            add(ts, pop.household_employer[who], pop.households[who], amt, "eft", memo=self.memo["payroll"])
        # bills and card payments to merchants
        d_, w = self._events(rng, H, p["bill_rate"], f, day0)
        m = pop.merchants[rng.integers(0, len(pop.merchants), len(w))]
        add(
            self._ts(rng, d_, 7, 15),
            pop.households[w],
            m,
            rng.lognormal(4.2, 1.0, len(w)),
            "eft",
            memo=self.memo["bill payment"],
        )
        # e-transfers between households
        d_, w = self._events(rng, H, p["etransfer_rate"], f, day0)
        other = pop.households[rng.integers(0, H, len(w))]
        add(
            self._ts(rng, d_, 7, 16),
            pop.households[w],
            other,
            rng.lognormal(4.8, 0.9, len(w)),
            "etransfer",
            memo=self.memo["e-transfer"],
        )
        # cash from machines, in $20s
        d_, w = self._events(rng, H, p["atm_rate"], f, day0)
        add(
            self._ts(rng, d_, 6, 17),
            pop.households[w],
            pop.cash_counters[pop.household_bank[w]],
            20.0 * rng.integers(2, 26, len(w)),
            "cash",
            denom=20,
        )
        # cash businesses deposit their takings; a few honest deposits land just under $10,000
        d_, w = self._events(rng, len(pop.cash_businesses), p["cash_deposit_rate"], f, day0)
        amt = np.minimum(rng.lognormal(np.log(p["cash_deposit_median"]), 0.55, len(w)), 24_000.0)
        near = rng.random(len(w)) < p["cash_near_threshold_share"]
        amt = np.where(near, rng.uniform(9_000, 9_990, len(w)), amt).round(0)
        denom = np.where(rng.random(len(w)) < 0.7, 20, np.where(rng.random(len(w)) < 0.5, 50, 100))
        add(
            self._ts(rng, d_, 9, 8),
            pop.cash_counters[pop.cash_business_bank[w]],
            pop.cash_businesses[w],
            amt,
            "cash",
            denom=denom,
            memo=self.memo["deposit"],
        )
        # business-to-business payments
        d_, w = self._events(rng, len(pop.businesses), p["supplier_rate"], f, day0)
        other = pop.businesses[rng.integers(0, len(pop.businesses), len(w))]
        wire = rng.random(len(w)) < 0.2
        amt = rng.lognormal(np.log(3_000), 1.0, len(w))
        add(
            self._ts(rng, d_[~wire], 8, 10),
            pop.businesses[w][~wire],
            other[~wire],
            amt[~wire],
            "eft",
            memo=self.memo["supplies"],
        )
        add(
            self._ts(rng, d_[wire], 8, 10),
            pop.businesses[w][wire],
            other[wire],
            amt[wire],
            "wire",
            memo=self.memo["supplies"],
        )
        # remittances through licensed MSBs: household -> MSB, MSB -> family in China (CNY)
        ch = pop.chinese_households
        d_, w = self._events(rng, len(ch), p["remit_rate"], f, day0)
        hh = pop.households[ch[w]]
        msb = pop.msb_accounts[rng.integers(0, len(pop.msb_accounts), len(w))]
        amt = np.minimum(rng.lognormal(np.log(1_500), 0.9, len(w)), 30_000).round(0)
        ts1 = self._ts(rng, d_, 9, 10)
        add(ts1, hh, msb, amt, "etransfer", memo=self.memo["remittance"], source=self.msb)
        rate = p["cny_rate"]
        recv = pop.cn_recipients[rng.integers(0, len(pop.cn_recipients), len(w))]
        add(
            ts1 + rng.integers(2, 40, len(w)) * US_PER_HOUR,
            msb,
            recv,
            (amt * 0.99 / rate).round(2),
            "wire",
            currency=self.cny,
            rate=rate,
            memo=self.memo["family support"],
            cdst=self.cn,
        )
        sessions = [
            self._sessions(rng, f, day0, pop.rec_patrons, pop.rec_parties, p["recreational_rate"], vip=False),
            self._sessions(rng, f, day0, pop.vip_patrons, pop.vip_parties, p["vip_rate"], vip=True),
        ]
        rec_s, vip_s = sessions
        # recreational buy-ins and cash-outs as transactions too
        for s in (rec_s, vip_s):
            self._session_txns(s, add)
        txns = {k: np.concatenate([x[k] for x in parts]) for k in parts[0]} if parts else {}
        sess = {k: np.concatenate([rec_s[k], vip_s[k]]) for k in rec_s}
        return txns, sess

    def _sessions(self, rng, f, day0, patrons, parties, rate, *, vip: bool) -> dict:
        p, pop = self.p, self.pop
        d_, w = self._events(rng, len(patrons), rate, f, day0)
        n = len(w)
        casino = rng.choice(len(pop.casino_house), size=n, p=pop.casino_weights)
        start = self._ts(rng, d_, 12, 14)
        if vip:
            buy = rng.lognormal(np.log(p["vip_buy_in_median"]), p["vip_buy_in_sigma"], n).round(-2)
            buy = np.clip(buy, 2_000, 2_000_000)
            cap = p.get("_cash_cap")
            high = rng.random(n) < p["vip_small_bills_share"]
            share = np.where(high, rng.uniform(0.55, 0.95, n), rng.uniform(0.0, 0.3, n)).round(2)
            draft = rng.random(n) < p["vip_draft_share"]
            if cap is not None:
                # a cash cap moves the excess of large buy-ins to bank drafts
                cap_day, cap_amt = cap
                draft |= (d_ >= cap_day) & (buy > cap_amt)
            form = np.where(draft, 1, 0)
            play = rng.uniform(0.8, 4.0, n)
            low_play = rng.random(n) < 0.05  # honest players who change their mind
            play = np.where(low_play, rng.uniform(0.05, 0.3, n), play)
            result = np.where(low_play, rng.uniform(0.9, 1.0, n), rng.uniform(0.0, 1.6, n))
            out_form = rng.choice(4, size=n, p=[0.15, 0.45, 0.25, 0.15])  # small, large, cheque, chips
        else:
            buy = (20.0 * rng.integers(5, 150, n)).astype(np.float64)
            share = rng.uniform(0.6, 1.0, n).round(2)
            form = np.zeros(n, np.int64)
            play = rng.uniform(1.0, 6.0, n)
            result = rng.uniform(0.0, 1.3, n)
            out_form = np.where(rng.random(n) < 0.9, 0, 3)
        cash_out = (buy * result).round(-1 if not vip else -2)
        out_form = np.where(cash_out <= 0, 4, out_form)
        return {
            "party": parties[w],
            "patron": patrons[w],
            "casino": casino,
            "start": start,
            "end": start + (rng.uniform(0.3, 6.0, n) * US_PER_HOUR).astype(np.int64),
            "buy_in": buy,
            "buy_in_form": form,
            "wagered": (buy * play).round(-1),
            "cash_out": cash_out,
            "cash_out_form": out_form,
            "share_small": np.where(form == 0, share, 0.0),
            "payee": np.full(n, -1, np.int64),
            "delivered_by": np.full(n, -1, np.int64),
            "ref": np.full(n, -1, np.int64),
        }

    def _session_txns(self, s: dict, add) -> None:
        pop = self.pop
        house = pop.casino_house[s["casino"]]
        cash = s["buy_in_form"] == 0
        denom = np.where(s["share_small"] >= 0.5, 20, 100)
        add(
            s["start"][cash],
            s["patron"][cash],
            house[cash],
            s["buy_in"][cash],
            "casino_buy_in",
            denom=denom[cash],
            source=self.casino,
        )
        dr = ~cash
        add(s["start"][dr], s["patron"][dr], house[dr], s["buy_in"][dr], "bank_draft", source=self.casino)
        paid = s["cash_out_form"] < 3
        chq = s["cash_out_form"] == 2
        c = paid & ~chq
        add(
            s["end"][c],
            house[c],
            s["patron"][c],
            s["cash_out"][c],
            "casino_cash_out",
            denom=np.where(s["cash_out_form"][c] == 1, 100, 20),
            source=self.casino,
        )
        add(s["end"][chq], house[chq], s["patron"][chq], s["cash_out"][chq], "cheque", source=self.casino)


def time_order(ts: np.ndarray) -> np.ndarray:
    """The stable sorting order of ``ts``.

    Times and positions are packed into one int64 key where they fit, so one sort of values
    (several times faster than an arg-sort) gives the order, ties broken by position.
    """
    n = len(ts)
    if n == 0:
        return np.empty(0, np.int64)
    low = int(ts.min())
    shift = max(1, (n - 1).bit_length())
    if (int(ts.max()) - low).bit_length() + shift > 63:
        return np.argsort(ts, kind="stable")
    key = ((ts - low) << shift) | np.arange(n, dtype=np.int64)
    key.sort()
    return key & ((1 << shift) - 1)


# narrower types for the account columns of a sorted chunk (it crosses a pipe; the writer codes
# accounts as int32 anyway)
_NARROW = {"src": np.int32, "dst": np.int32}


def sorted_chunk(txns: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The transactions of a bulk chunk in time order (stable), account columns as int32."""
    if not txns:
        return txns
    order = time_order(txns["ts"])
    return {k: v[order].astype(_NARROW.get(k, v.dtype), copy=False) for k, v in txns.items()}
