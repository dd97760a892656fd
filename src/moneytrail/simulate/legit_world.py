"""The legitimate institutions and population: banks, casinos, money services businesses,
universities, lawyers, households, businesses, gamblers, students, home buyers and importers.

People who appear in several sources (VIP gamblers at the casino and the bank, home buyers at the
bank and the land title office, importers at the bank and customs) get one party record per source
with the name spelled that source's way. The bulk arrays for :mod:`legit_bulk` are built here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from moneytrail.simulate.book import US_PER_DAY, US_PER_HOUR, Book
from moneytrail.simulate.identity import Person, PersonFactory, company, record
from moneytrail.simulate.legit_bulk import BulkPopulation

BANKS = (
    "Pacific Coast Bank",
    "Dominion Trust Bank",
    "Fraser Valley Credit Union",
    "Lions Gate Bank",
    "Maple Leaf Bank",
)
CASINOS = ("Riverside Casino Resort", "Grand Harbour Casino", "Starlight Casino", "Cascades Casino", "Lucky Dragon Casino", "Edgewater Casino")  # fmt: skip
UNIVERSITIES = ("University of the Coast", "Fraser Institute of Technology", "Burrard College")
CN_BANKS = (
    "Bank of China",
    "ICBC",
    "China Construction Bank",
    "Agricultural Bank of China",
    "China Merchants Bank",
)


@dataclass
class Institutions:
    """Account indices of the shared institutions."""

    banks: list[int]  # party index of each bank (bank's own record)
    cash_counters: list[int]  # cash-side account per bank
    casinos: list[int]  # party index (casino's own record)
    casino_house: list[int]
    casino_weights: np.ndarray
    msb_accounts: list[int]
    universities: list[int]  # account indices
    lawyer_trusts: list[int]
    car_dealers: list[int]
    merchants_electronics: list[int]
    online_gambling: list[int]  # foreign gambling site accounts
    gambling_processors: list[int]


def build_institutions(book: Book, pf: PersonFactory, params: dict, t0: int) -> Institutions:
    """Banks, casinos, MSBs, universities, lawyers and a few merchants (companies)."""
    opened = t0 - 3000 * US_PER_DAY
    banks, counters = [], []
    for i, b in enumerate(BANKS):
        p = company(book, b, "bank", f"C-BANK{i}", role="bank")
        banks.append(p)
        counters.append(
            book.account(
                holder=p, institution=b, itype="bank", source="bank", opened_at=opened, role="cash_counter"
            )
        )
    casinos, house = [], []
    for i, c in enumerate(CASINOS):
        p = company(book, c, "casino", f"C-CASINO{i}", role="casino")
        casinos.append(p)
        house.append(
            book.account(
                holder=p,
                institution=c,
                itype="casino",
                source="casino",
                opened_at=opened,
                role="casino_house",
            )
        )
    w = np.asarray(params["casino_weights"], dtype=float)

    def company_account(
        name: str, tag: str, role: str, institution: str, itype: str = "bank", *, is_external=False, **kw
    ) -> int:
        """A company known to its bank, and its one account there (in the company's country)."""
        p = company(book, name, "bank", tag, role=role, **kw)
        source = "msb" if itype == "msb" else "bank"
        country = kw.get("country", "CA")
        return book.account(
            holder=p,
            institution=institution,
            itype=itype,
            source=source,
            opened_at=opened,
            role=role,
            country=country,
            is_external=is_external,
        )

    msbs = []
    for i in range(int(params["msbs"])):
        name = f"{pf.company_name().replace(' Ltd', '')} Money Exchange Ltd"
        msbs.append(
            company_account(
                name, f"C-MSB{i}", "msb_licensed", BANKS[i % len(BANKS)], "msb", address=pf.address()
            )
        )
    unis = [company_account(u, f"C-UNI{i}", "university", BANKS[i]) for i, u in enumerate(UNIVERSITIES)]
    trusts = []
    for i in range(int(params["lawyers"])):
        law = pf.person(chinese=0.4, occupation="lawyer", income=250_000)
        p = record(book, pf.rng, law, "bank", occupation="lawyer")
        trusts.append(
            book.account(
                holder=p,
                institution=BANKS[i % 5],
                itype="lawyer_trust",
                source="bank",
                opened_at=opened,
                role="lawyer_trust",
            )
        )
    dealers = [
        company_account(
            f"{pf.company_name().replace(' Ltd', '')} Motors Ltd", f"C-CAR{i}", "car_dealer", BANKS[i]
        )
        for i in range(3)
    ]
    elec = [
        company_account(
            f"{pf.company_name().replace(' Ltd', '')} Electronics Ltd", f"C-ELEC{i}", "merchant", BANKS[i]
        )
        for i in range(4)
    ]
    online, proc = [], []
    for i, (site, cc) in enumerate((("Royal Flush Online Ltd", "MT"), ("Asia Star Gaming", "CW"))):
        online.append(
            company_account(
                site,
                f"C-ONLINE{i}",
                "online_gambling",
                "Offshore Bank",
                "other",
                country=cc,
                is_external=True,
            )
        )
        proc.append(
            company_account(
                f"{site.split()[0]} Payments Ltd",
                f"C-PROC{i}",
                "payment_processor",
                "Offshore Bank",
                "other",
                country="CY",
                is_external=True,
            )
        )
    return Institutions(
        banks, counters, casinos, house, w / w.sum(), msbs, unis, trusts, dealers, elec, online, proc
    )


# an account held abroad, in yuan, outside the Canadian banks' view
ABROAD = {"country": "CN", "currency": "CNY", "is_external": True}


def person_account(
    book: Book,
    rng,
    per: Person,
    source: str,
    institution: str,
    role: str,
    opened_at: int,
    *,
    record_role: str = "legitimate",
    itype: str = "bank",
    account_source: str | None = None,
    **account: object,
) -> tuple[int, int]:
    """The record ``source`` keeps about ``per`` and that party's account at ``institution``;
    returns (party, account). The account is known to ``account_source`` (default ``source``)."""
    p = record(book, rng, per, source, role=record_role)
    a = book.account(
        holder=p,
        institution=institution,
        itype=itype,
        source=account_source or source,
        opened_at=opened_at,
        role=role,
        **account,
    )
    return p, a


def build_bulk_population(
    book: Book, pf: PersonFactory, inst: Institutions, params: dict, scale: float, t0: int, rng
) -> BulkPopulation:
    """Households, businesses and gamblers for the bulk generator."""
    H = max(20, int(params["households"] * scale))
    B = max(10, int(params["businesses"] * scale))
    opened = t0 - 2000 * US_PER_DAY
    fr = pf.rng  # scalar draws for the per-entity loops (see FastRandom)
    businesses, cash_biz, cash_bank = [], [], []
    cash_kinds = ("Restaurant", "Convenience Store", "Noodle House", "Bakery")
    other_kinds = ("Services Ltd", "Supplies Ltd", "Consulting Inc", "Dental Clinic", "Auto Repair")
    for i, address in enumerate(pf.addresses(B)):
        is_cash = fr.random() < params["cash_business_share"]
        kind = (
            cash_kinds[fr.integers(len(cash_kinds))]
            if is_cash
            else other_kinds[fr.integers(len(other_kinds))]
        )
        name = f"{pf.company_name().split(' ')[0]} {kind}"
        p = company(
            book,
            name,
            "bank",
            f"C-BIZ{i:06d}",
            role="business_cash" if is_cash else "business",
            address=address,
        )
        bank_i = fr.integers(len(BANKS))
        a = book.account(
            holder=p,
            institution=BANKS[bank_i],
            itype="bank",
            source="bank",
            opened_at=opened,
            role="business_cash" if is_cash else "business",
        )
        businesses.append(a)
        if is_cash:
            cash_biz.append(a)
            cash_bank.append(bank_i)
    wages = rng.lognormal(np.log(62_000), 0.45, H)
    support = rng.lognormal(np.log(30_000), 0.3, H)
    occ_u = rng.random(H)
    occupation = np.where(occ_u < 0.05, "student", np.where(occ_u < 0.09, "homemaker", "employee"))
    income = np.where(occ_u < 0.09, 0.0, wages)
    hh_bank = rng.integers(0, len(BANKS), H)
    people = pf.people(
        H, chinese=params["share_chinese"], occupation=occupation.tolist(), income=income.tolist()
    )
    households = [
        person_account(book, fr, per, "bank", BANKS[b], "household", opened)[1]
        for per, b in zip(people, hh_bank.tolist(), strict=True)
    ]
    hh_income = np.where(income > 0, income, support)  # family support
    chinese = [i for i, per in enumerate(people) if per.chinese]
    n_rec = max(5, int(params["recreational_gamblers"] * scale))
    rec_pat, rec_par = [], []
    for per in pf.people(n_rec, chinese=params["share_chinese"]):
        p, a = person_account(book, fr, per, "casino", "patron", "patron", opened, itype="casino")
        rec_par.append(p)
        rec_pat.append(a)
    n_vip = max(3, int(params["vip_gamblers"] * scale))
    vip_pat, vip_par = [], []
    for _ in range(n_vip):
        cn = rng.random() < params["vip_cn_share"]
        per = pf.person(
            chinese=0.9 if not cn else True,
            country="CN" if cn else "CA",
            age=(35, 70),
            occupation="business owner",
            income=float(rng.lognormal(np.log(600_000), 0.6)),
        )
        vip = "vip_gambler_legit"
        p, a = person_account(book, fr, per, "casino", "patron", vip, opened, record_role=vip, itype="casino")
        vip_par.append(p)
        vip_pat.append(a)
        if not cn or rng.random() < 0.5:
            person_account(book, fr, per, "bank", BANKS[int(rng.integers(5))], vip, opened, record_role=vip)
    cn_recv = []
    for per in pf.people(max(20, int(params["cn_recipients"] * scale)), chinese=True, country="CN"):
        bank = CN_BANKS[int(rng.integers(5))]
        cn_recv.append(
            person_account(book, fr, per, "msb", bank, "remittance_recipient", opened, **ABROAD)[1]
        )
    merchants = np.asarray(businesses, dtype=np.int64)
    return BulkPopulation(
        households=np.asarray(households, np.int64),
        household_bank=np.asarray(hh_bank, np.int64),
        household_income=np.asarray(hh_income),
        household_phase=rng.integers(0, int(params["salary_period_days"]), H),
        household_employer=merchants[rng.integers(0, len(merchants), H)],
        chinese_households=np.asarray(chinese, np.int64),
        merchants=merchants,
        cash_businesses=np.asarray(cash_biz, np.int64),
        cash_business_bank=np.asarray(cash_bank, np.int64),
        businesses=merchants,
        cash_counters=np.asarray(inst.cash_counters, np.int64),
        msb_accounts=np.asarray(inst.msb_accounts, np.int64),
        cn_recipients=np.asarray(cn_recv, np.int64),
        casino_house=np.asarray(inst.casino_house, np.int64),
        casino_weights=inst.casino_weights,
        rec_patrons=np.asarray(rec_pat, np.int64),
        rec_parties=np.asarray(rec_par, np.int64),
        vip_patrons=np.asarray(vip_pat, np.int64),
        vip_parties=np.asarray(vip_par, np.int64),
    )


def build_special_legit(
    book: Book, pf: PersonFactory, inst: Institutions, params: dict, scale: float, t0: int, days: int, rng
) -> None:
    """Students paying tuition, home sales (mortgaged and some honest cash buyers), and importers."""
    opened = t0 - 1500 * US_PER_DAY
    rate = params["cny_rate"]
    # international students: parents in China wire tuition and living money
    n_students = max(2, int(params["students"] * scale))
    students = pf.people(n_students, chinese=True, age=(18, 26), occupation="student", income=0.0)
    parents = pf.people(n_students, chinese=True, country="CN", age=(45, 60))
    banks = rng.integers(0, 5, (n_students, 2)).tolist()
    unis = rng.integers(0, len(inst.universities), n_students).tolist()
    months = range(0, days, 30)
    offsets = rng.integers(0, 5, (n_students, len(months))).tolist()
    living = rng.uniform(2_000, 4_000, (n_students, len(months))).tolist()
    fees = rng.uniform(12_000, 22_000, (n_students, len(months))).tolist()
    for k, (per, par) in enumerate(zip(students, parents, strict=True)):
        acct = person_account(book, pf.rng, per, "bank", BANKS[banks[k][0]], "student", opened)[1]
        parent = person_account(
            book,
            pf.rng,
            par,
            "msb",
            CN_BANKS[banks[k][1]],
            "student_parent",
            opened,
            account_source="bank",
            **ABROAD,
        )[1]
        uni = inst.universities[unis[k]]
        for j, d in enumerate(months):
            ts = t0 + (d + offsets[k][j]) * US_PER_DAY + 10 * US_PER_HOUR
            book.txn(
                ts, parent, acct, living[k][j], "wire", currency="CNY", rate=rate, memo="living expenses"
            )
            if d % 120 == 0:
                fee = fees[k][j]
                book.txn(ts, parent, acct, fee, "wire", currency="CNY", rate=rate, memo="tuition")
                book.txn(ts + 2 * US_PER_DAY, acct, uni, fee, "eft", memo="tuition")
    # home sales: bank mortgages through lawyers' trust accounts, some honest cash buyers
    n_sales = int(params["home_sales_per_year"] * scale * days / 365)
    sale_day = rng.integers(0, days, n_sales).tolist()
    prices = rng.lognormal(np.log(1_000_000), 0.4, n_sales).round(-3).tolist()
    buyers = pf.people(
        n_sales,
        chinese=params["share_chinese"],
        income=rng.lognormal(np.log(110_000), 0.4, n_sales).tolist(),
        occupation="employee",
    )
    sellers = pf.people(n_sales, chinese=params["share_chinese"])
    sale_banks = rng.integers(0, 5, (n_sales, 3)).tolist()
    cash_buyers = (rng.random(n_sales) < params["cash_home_buyer_share"]).tolist()
    trusts = rng.integers(0, len(inst.lawyer_trusts), n_sales).tolist()
    loan_share = rng.uniform(0.5, 0.8, n_sales).tolist()
    detached = (rng.random(n_sales) < 0.5).tolist()
    for k, (buyer, seller) in enumerate(zip(buyers, sellers, strict=True)):
        ts = t0 + sale_day[k] * US_PER_DAY + 11 * US_PER_HOUR
        price = prices[k]
        ba = person_account(book, pf.rng, buyer, "bank", BANKS[sale_banks[k][0]], "home_buyer", opened)[1]
        sa = person_account(book, pf.rng, seller, "bank", BANKS[sale_banks[k][1]], "home_seller", opened)[1]
        bl, sl = record(book, pf.rng, buyer, "land_title"), record(book, pf.rng, seller, "land_title")
        cash_buyer = cash_buyers[k]
        trust = inst.lawyer_trusts[trusts[k]]
        bank_i = sale_banks[k][2]
        mortgage = 0.0 if cash_buyer else round(price * loan_share[k], -3)
        prop = add_property(book, pf, price, "detached" if detached[k] else "condo")
        book.transfers.add(
            property=prop, ts=ts, buyer=bl, seller=sl, price=price, mortgage=mortgage,
            lender=inst.banks[bank_i] if mortgage else None, lender_kind="bank" if mortgage else "none",
            cash=price - mortgage if cash_buyer else 0.0, deposit_payer=None, via_trust=True, ref=None,
        )  # fmt: skip
        book.txn(ts - 30 * US_PER_DAY, ba, trust, price * 0.05, "bank_draft", memo="deposit")
        book.txn(ts - US_PER_DAY, ba, trust, price - mortgage - price * 0.05, "wire", memo="purchase balance")
        if mortgage:
            book.txn(
                ts - US_PER_DAY,
                inst.cash_counters[bank_i],
                trust,
                mortgage,
                "mortgage",
                memo="mortgage advance",
            )
        book.txn(ts, trust, sa, price, "wire", memo="sale proceeds")
    # legitimate importers from China: container shipments and USD invoices
    for i in range(max(2, int(params["importers"] * scale))):
        name = pf.company_name()
        cid = f"C-IMP{i:05d}"
        addr = pf.address()
        cust = company(book, name, "customs", cid, address=addr)
        bank = company(book, name, "bank", cid, address=addr)
        acct = book.account(
            holder=bank,
            institution=BANKS[i % 5],
            itype="bank",
            source="bank",
            opened_at=opened,
            role="importer",
        )
        ex_name = f"{pf.company_name().replace(' Ltd', '')} Manufacturing Co"
        ex_id = f"C-EXP{i:05d}"
        shipper = company(book, ex_name, "customs", ex_id, country="CN", address=pf.address("CN"))
        ex_bank = company(book, ex_name, "bank", ex_id, country="CN")
        ex_acct = book.account(
            holder=ex_bank,
            institution=CN_BANKS[i % 5],
            itype="bank",
            source="bank",
            opened_at=opened,
            country="CN",
            currency="USD",
            role="exporter",
            is_external=True,
        )
        goods = [
            ("9503.00", "plastic toys"),
            ("8471.30", "laptop computers"),
            ("6403.99", "footwear"),
            ("9403.60", "furniture"),
            ("2106.90", "food supplements"),
        ]
        for d in range(int(rng.integers(0, 30)), days, 30):
            ts = t0 + d * US_PER_DAY + 9 * US_PER_HOUR
            hs, desc = goods[i % len(goods)]
            value = float(rng.lognormal(np.log(60_000), 0.5)).__round__(0)
            book.shipments.add(
                ts=ts,
                mode="container",
                shipper=shipper,
                consignee=cust,
                origin="CN",
                hs=hs,
                desc=desc,
                value=value,
                weight=round(value / 8, 1),
            )
            book.txn(
                ts + 5 * US_PER_DAY,
                acct,
                ex_acct,
                value,
                "wire",
                currency="USD",
                rate=params["usd_rate"],
                memo=f"invoice {int(rng.integers(10000, 99999))}",
            )


def add_property(book: Book, pf: PersonFactory, value: float, kind: str) -> int:
    return book.properties.add(address=pf.address(), kind=kind, value=round(value * 0.92, -3))
