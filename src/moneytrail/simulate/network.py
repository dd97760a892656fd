"""The members and accounts of one laundering network.

A network is a closed loop: suppliers in China ship product; dealers sell it for cash; collectors
bring the cash to a stash house; from there it is laundered through the network's channels and
the profit goes back to the bosses and suppliers in China. Roles (``party_labels.role``):

- supply side: supplier, boss, shell_company (Canadian importer and Hong Kong front), dealer,
  cash_collector, stash
- underground bank: msb_front, ub_agent, payout_account, vip_client (a real gambler from China
  who takes the cash and repays in yuan)
- placement and integration: mule (student, homemaker, unemployed), proxy_player, nominee,
  private_lender, borrower
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from moneytrail.simulate.book import US_PER_DAY, Book
from moneytrail.simulate.identity import Person, PersonFactory, company, record
from moneytrail.simulate.legit_world import BANKS, CN_BANKS

# roles whose accounts the traffickers control (the books of the loop are kept over these)
TRAFFICKER_ROLES = frozenset(
    {
        "dealer",
        "cash_collector",
        "stash",
        "mule",
        "proxy_player",
        "nominee",
        "private_lender",
        "shell_company",
    }
)
UB_ROLES = frozenset({"msb_front", "ub_agent", "payout_account"})
SENT_BACK_ROLES = frozenset({"supplier", "boss"})


@dataclass
class Member:
    """A person or company in the network with its party records and accounts."""

    person: Person | None
    role: str
    parties: dict[str, int] = field(default_factory=dict)  # source -> party index
    bank: int | None = None  # main bank account
    cash: int | None = None  # cash account (physical cash held)
    patron: int | None = None  # casino patron account
    cny: int | None = None  # account in China


@dataclass
class Network:
    """Everything a channel needs to move money for one network."""

    nid: str
    cfg: dict
    street: int = -1
    stash: int = -1
    dealers: list[Member] = field(default_factory=list)
    collectors: list[Member] = field(default_factory=list)
    suppliers: list[Member] = field(default_factory=list)
    bosses: list[Member] = field(default_factory=list)
    shells: list[Member] = field(
        default_factory=list
    )  # [Canadian importer, Hong Kong front, second CA shell]
    mules: list[Member] = field(default_factory=list)
    students: list[Member] = field(default_factory=list)
    proxies: list[Member] = field(default_factory=list)
    banned: list[Member] = field(default_factory=list)
    nominees: list[Member] = field(default_factory=list)
    lenders: list[Member] = field(default_factory=list)
    agents: list[Member] = field(default_factory=list)
    vips: list[Member] = field(default_factory=list)
    payout: list[int] = field(default_factory=list)
    msb_front: int | None = None
    members: int = 0


class NetworkBuilder:
    """Creates a network's members with their party records in each source that knows them."""

    def __init__(self, book: Book, pf: PersonFactory, rng: np.random.Generator, t0: int):
        self.book, self.pf, self.rng, self.t0 = book, pf, rng, t0
        self.opened = t0 - 400 * US_PER_DAY

    def _member(
        self,
        net: Network,
        role: str,
        sources: tuple[str, ...],
        *,
        country="CA",
        occupation=None,
        income=None,
        chinese=0.85,
        age=(20, 60),
    ) -> Member:
        per = self.pf.person(chinese=chinese, country=country, occupation=occupation, income=income, age=age)
        m = Member(per, role)
        for s in sources:
            m.parties[s] = record(self.book, self.pf.rng, per, s, role=role, network=net.nid)
        net.members += 1
        return m

    def _acct(self, net: Network, m: Member, kind: str, role: str | None = None) -> int:
        b, r = self.book, role or m.role
        holder = m.parties.get("bank", next(iter(m.parties.values())))
        if kind == "bank":
            return b.account(
                holder=holder,
                institution=BANKS[int(self.rng.integers(5))],
                itype="bank",
                source="bank",
                opened_at=self.opened,
                role=r,
                network=net.nid,
            )
        if kind == "cash":
            return b.account(
                holder=holder,
                institution="cash",
                itype="other",
                source="surveillance",
                opened_at=self.opened,
                role=r,
                network=net.nid,
            )
        if kind == "cny":
            return b.account(
                holder=holder,
                institution=CN_BANKS[int(self.rng.integers(5))],
                itype="bank",
                source="bank",
                opened_at=self.opened,
                country="CN",
                currency="CNY",
                role=r,
                network=net.nid,
                is_external=True,
            )
        if kind == "patron":
            return b.account(
                holder=m.parties["casino"],
                institution="patron",
                itype="casino",
                source="casino",
                opened_at=self.opened,
                role=r,
                network=net.nid,
            )
        raise ValueError(kind)

    def build(self, nid: str, cfg: dict, scale: float) -> Network:
        b, rng, pf = self.book, self.rng, self.pf
        net = Network(nid, cfg)

        def n(key: str, default: int = 1) -> int:
            return max(
                1, int(round(cfg.get(key, default) * (scale if cfg.get("scale_members", True) else 1)))
            )

        net.street = b.account(
            holder=None,
            institution="street",
            itype="other",
            source="surveillance",
            opened_at=self.opened,
            role="street_market",
            network=nid,
            is_external=True,
        )
        # suppliers and bosses in China; one supplier address is residential and shared (T3)
        home = pf.address("CN")
        for i in range(2):
            name = f"{pf.company_name().replace(' Ltd', '')} Chemical Co"
            cid = f"C-{nid}-SUP{i}"
            m = Member(None, "supplier")
            m.parties["customs"] = company(
                b,
                name,
                "customs",
                cid,
                role="supplier",
                network=nid,
                country="CN",
                address=home if i == 0 else pf.address("CN"),
                phone=pf.phone("CN"),
            )
            m.parties["bank"] = company(
                b, name, "bank", cid, role="supplier", network=nid, country="CN", address=home
            )
            m.cny = b.account(
                holder=m.parties["bank"],
                institution=CN_BANKS[i],
                itype="bank",
                source="bank",
                opened_at=self.opened,
                country="CN",
                currency="CNY",
                role="supplier",
                network=nid,
                is_external=True,
            )
            b.label("party", f"P{m.parties['bank']:08d}", ["T3"], nid, "supply")
            net.suppliers.append(m)
            net.members += 1
        for _ in range(2):
            m = self._member(net, "boss", ("bank",), country="CN", chinese=True, age=(40, 65))
            m.cny = self._acct(net, m, "cny")
            net.bosses.append(m)
        # shell companies: Canadian importer, Hong Kong front, second Canadian shell (cycles)
        for i, (cc, label) in enumerate((("CA", "Import Export"), ("HK", "Trading"), ("CA", "Holdings"))):
            name = f"{pf.company_name().split(' ')[0]} {pf.company_name().split(' ')[1]} {label} Ltd"
            cid = f"C-{nid}-SHELL{i}"
            m = Member(None, "shell_company")
            addr = pf.address("CN" if cc == "HK" else "CA")
            if cc == "CA":
                m.parties["customs"] = company(
                    b, name, "customs", cid, role="shell_company", network=nid, address=addr
                )
            m.parties["bank"] = company(
                b, name, "bank", cid, role="shell_company", network=nid, address=addr, country=cc
            )
            m.bank = b.account(
                holder=m.parties["bank"],
                institution="HSBC Hong Kong" if cc == "HK" else BANKS[i],
                itype="bank",
                source="bank",
                opened_at=self.opened,
                country=cc,
                currency="USD" if cc == "HK" else "CAD",
                role="shell_company",
                network=nid,
            )
            net.shells.append(m)
            net.members += 1
        b.links.add(a=net.bosses[0].parties["bank"], b=net.shells[0].parties["bank"], kind="director_of")
        # dealers and collectors hold physical cash; one stash house
        for _ in range(n("dealers", 10)):
            m = self._member(net, "dealer", ("bank",), occupation="unemployed", income=0.0)
            m.cash = self._acct(net, m, "cash")
            net.dealers.append(m)
        for _ in range(n("collectors", 2)):
            m = self._member(net, "cash_collector", ("bank", "casino"))
            m.cash = self._acct(net, m, "cash")
            net.collectors.append(m)
        net.stash = self._acct(net, net.collectors[0], "cash", role="stash")
        # mules: low-income accounts; groups of three share a phone and an address (G7)
        occupations = ("student", "homemaker", "unemployed")
        for i in range(n("mules", 6)):
            m = self._member(
                net,
                "mule",
                ("bank", "customs", "casino"),
                occupation=occupations[i % 3],
                income=0.0,
                age=(19, 45),
            )
            m.bank = self._acct(net, m, "bank")
            m.patron = self._acct(net, m, "patron")
            net.mules.append(m)
        self._share_identifiers(net, [m.parties["bank"] for m in net.mules])
        for _ in range(n("students", 2)):
            m = self._member(
                net, "mule", ("bank",), occupation="student", income=0.0, age=(18, 25), chinese=True
            )
            m.bank = self._acct(net, m, "bank")
            net.students.append(m)
        for _ in range(n("proxies", 2)):
            m = self._member(net, "proxy_player", ("casino", "bank"), occupation="unemployed", income=0.0)
            m.patron = self._acct(net, m, "patron")
            m.bank = self._acct(net, m, "bank")
            net.proxies.append(m)
            banned = self._member(net, "banned_player", ("casino",))
            net.banned.append(banned)
            b.links.add(a=m.parties["casino"], b=banned.parties["casino"], kind="associate")
        for i in range(n("nominees", 3)):
            m = self._member(
                net,
                "nominee",
                ("bank", "land_title"),
                occupation="homemaker" if i % 2 == 0 else "student",
                income=0.0,
                chinese=True,
            )
            m.bank = self._acct(net, m, "bank")
            net.nominees.append(m)
            b.links.add(a=m.parties["bank"], b=net.bosses[i % 2].parties["bank"], kind="family")
        self._share_identifiers(net, [m.parties["bank"] for m in net.nominees])
        re = cfg.get("real_estate", {})
        for _ in range(int(re.get("lenders", 0))):
            m = self._member(
                net,
                "private_lender",
                ("bank", "land_title"),
                occupation="investor",
                income=float(rng.uniform(20_000, 60_000)),
            )
            m.bank = self._acct(net, m, "bank")
            net.lenders.append(m)
            b.label("party", f"P{m.parties['land_title']:08d}", ["G8", "R4"], nid, "integration")
        ub = cfg.get("ub")
        if ub:
            name = f"{pf.company_name().split(' ')[0]} International Money Services Ltd"
            cid = f"C-{nid}-MSB"
            front = company(b, name, "bank", cid, role="msb_front", network=nid, address=pf.address())
            company(b, name, "msb", cid, role="msb_front", network=nid, address=pf.address())
            net.msb_front = b.account(
                holder=front,
                institution=BANKS[0],
                itype="msb",
                source="bank",
                opened_at=self.opened,
                role="msb_front",
                network=nid,
            )
            net.members += 1
            for _ in range(int(ub.get("agents", 2))):
                m = self._member(
                    net, "ub_agent", ("bank", "casino"), occupation="business owner", income=40_000.0
                )
                m.cash = self._acct(net, m, "cash")
                net.agents.append(m)
            for _ in range(int(ub.get("payout_accounts", 20))):
                per = pf.person(chinese=True, country="CN")
                p = record(b, pf.rng, per, "bank", role="payout_account", network=nid)
                net.payout.append(
                    b.account(
                        holder=p,
                        institution=CN_BANKS[int(rng.integers(5))],
                        itype="bank",
                        source="bank",
                        opened_at=self.opened,
                        country="CN",
                        currency="CNY",
                        role="payout_account",
                        network=nid,
                        is_external=True,
                    )
                )
                net.members += 1
            # an underground bank serves many clients at every scale: the count follows the scale
            # down to a floor, so the agents' hand-overs always form a star
            sized = ub.get("vip_clients", 10) * (scale if cfg.get("scale_members", True) else 1)
            for _ in range(max(int(ub.get("vip_min", 6)), int(round(sized)))):
                m = self._member(
                    net,
                    "vip_client",
                    ("casino", "bank"),
                    country="CN",
                    chinese=True,
                    occupation="business owner",
                    income=float(rng.lognormal(np.log(500_000), 0.5)),
                    age=(35, 65),
                )
                m.patron = self._acct(net, m, "patron")
                m.cny = self._acct(net, m, "cny")
                net.vips.append(m)
            rng.shuffle(net.payout)
        return net

    def _share_identifiers(self, net: Network, parties: list[int]) -> None:
        """Groups of up to three apparently unrelated parties share a phone, e-mail or address (G7)."""
        cols = self.book.parties.cols
        for g in range(0, len(parties) - 1, 3):
            group = parties[g : g + 3]
            if len(group) < 2:
                continue
            field_name = ("phone", "address", "email")[(g // 3) % 3]
            value = cols[field_name][group[0]] or (
                self.pf.phone() if field_name == "phone" else f"shared{g}@qq.com"
            )
            for p in group:
                cols[field_name][p] = value
                self.book.label("party", f"P{p:08d}", ["G7"], net.nid, "placement")
