"""Real people and companies, and how each source records them.

A :class:`Person` is the truth: characters, readings, birth date, the addresses and phones they
had over time. :func:`record` renders the party record one source keeps about them, with the name
spelled the way that source would (bank: pinyin or adopted English name; casino: Cantonese
romanisation or nickname; land title: full legal name, sometimes with characters; msb: surname
first) and contact details picked from the person's history. At most one typo per name, and birth
dates present in most records, keep entity resolution hard but possible.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from moneytrail.names import load as load_names
from moneytrail.simulate.book import Book

EPOCH = dt.date(1970, 1, 1)
STREETS = (
    "No. 3 Road", "Granville Street", "Kingsway", "Cambie Street", "Oak Street", "Main Street",
    "Westminster Highway", "Garden City Road", "Alderbridge Way", "Marine Drive", "Victoria Drive",
    "Fraser Street", "Hastings Street", "Broadway", "Knight Street", "Boundary Road", "Willingdon Avenue",
    "Minoru Boulevard", "Ackroyd Road", "Lansdowne Road", "Cooney Road", "Bridgeport Road",
)  # fmt: skip
CITIES = ("Vancouver", "Richmond", "Burnaby", "Surrey", "Coquitlam", "West Vancouver")
CN_CITIES = ("Guangzhou", "Shenzhen", "Beijing", "Shanghai", "Wuhan", "Fuzhou", "Dongguan")
COMPANY_WORDS = (
    "Golden", "Dragon", "Pacific", "Harbour", "Lucky", "Jade", "Phoenix", "Evergreen", "Silver",
    "Orient", "Maple", "Lotus", "Great Wall", "Pearl River", "Bright", "Fortune", "Summit", "Coastal",
    "Northern", "Unity", "Rising Sun", "Diamond", "Crown", "Royal", "Eastern", "Prosperity",
)  # fmt: skip
COMPANY_KINDS = (
    "Trading",
    "Import Export",
    "Holdings",
    "Enterprises",
    "Investment",
    "Logistics",
    "International",
)


@dataclass
class Person:
    """One real person (the truth behind several party records)."""

    person_id: str
    chinese: bool
    sex: str
    surname: str  # characters for Chinese names, Latin otherwise
    given: str
    birth_date: int | None  # days since 1970-01-01
    english: str | None = None
    cantonese_first: bool = False  # Hong Kong / Guangdong origin: Cantonese is their own spelling
    addresses: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    country: str = "CA"
    nationality: str = "CA"
    occupation: str | None = None
    income: float | None = None

    # -- romanisations ----------------------------------------------------------------------
    def pinyin_parts(self) -> tuple[str, str]:
        return _pinyin_parts(self.surname, self.given)

    def cantonese_parts(self) -> tuple[str, str]:
        return _cantonese_parts(self.surname, self.given)

    def canonical(self) -> str:
        """The person's own spelling in Western order (the reference for ``name_variant``)."""
        if not self.chinese:
            return f"{self.given} {self.surname}"
        sur, giv = self.cantonese_parts() if self.cantonese_first else self.pinyin_parts()
        return f"{giv} {sur}"

    @property
    def native(self) -> str | None:
        return f"{self.surname}{self.given}" if self.chinese else None


class FastRandom:
    """Scalar draws served from blocks pre-drawn by a numpy Generator.

    Building hundreds of thousands of people one attribute at a time, or running a network's
    flows one hand-over at a time, is dominated by the cost of a Generator call per scalar;
    serving scalars from a block keeps the same determinism (same seed, same sequence) at a
    fraction of the cost. Array draws and every other distribution go to the Generator itself.
    """

    def __init__(self, gen: np.random.Generator, block: int = 1 << 16):
        self.gen = gen
        self.block = block
        self._buf: list[float] = []
        self._i = 0

    def random(self, size=None):
        """A float in [0, 1) (an array from the Generator when ``size`` is given)."""
        if size is not None:
            return self.gen.random(size)
        if self._i >= len(self._buf):
            self._buf = self.gen.random(self.block).tolist()
            self._i = 0
        u = self._buf[self._i]
        self._i += 1
        return u

    def randoms(self, n: int) -> list[float]:
        """The next ``n`` floats of :meth:`random`'s stream (the values ``n`` calls would give)."""
        out = self._buf[self._i : self._i + n]
        self._i += len(out)
        while len(out) < n:
            self._buf = self.gen.random(self.block).tolist()
            take = self._buf[: n - len(out)]
            self._i = len(take)
            out += take
        return out

    def integers(self, low: int, high: int | None = None, size=None):
        """A whole number in [low, high) (or [0, low) with one argument)."""
        if size is not None:
            return self.gen.integers(low, high, size)
        if high is None:
            low, high = 0, low
        return low + int(self.random() * (high - low))

    def uniform(self, low: float = 0.0, high: float = 1.0, size=None):
        """A float in [low, high)."""
        if size is not None:
            return self.gen.uniform(low, high, size)
        return low + self.random() * (high - low)

    def __getattr__(self, name: str):
        # the other distributions (gamma, choice, shuffle, ...) straight from the Generator
        if name == "gen":
            raise AttributeError(name)
        return getattr(self.gen, name)


@dataclass
class PersonFactory:
    """Draws people with a local generator; ids are sequential (``H%08d``)."""

    rng: FastRandom
    count: int = 0

    def person(
        self,
        *,
        chinese: bool | float = 0.5,
        country: str = "CA",
        age: tuple[int, int] = (22, 70),
        occupation: str | None = None,
        income: float | None = None,
        year: int = 2015,
    ) -> Person:
        r = self.rng
        pools = _pools()
        is_cn = bool(chinese) if isinstance(chinese, bool) else bool(r.random() < chinese)
        sex = "m" if r.random() < 0.5 else "f"
        self.count += 1
        pid = f"H{self.count:08d}"
        born = (dt.date(year, 7, 1) - EPOCH).days - int(r.integers(age[0] * 365, age[1] * 365))
        if is_cn:
            surname = pools["surnames"][int(np.searchsorted(pools["surname_cdf"], r.random(), side="right"))]
            given_pool = pools[f"given_{sex}"]
            i = int(r.integers(len(given_pool)))
            given = given_pool[i]
            if r.random() >= 0.25:
                j = int(r.integers(len(given_pool) - 1))
                given += given_pool[j + (j >= i)]
            english = None
            if r.random() < 0.45:
                names = pools[f"english_{sex}"]
                english = names[int(r.integers(len(names)))]
            p = Person(pid, True, sex, surname, given, born, english, cantonese_first=bool(r.random() < 0.3))
        else:
            names, surnames = pools[f"other_{sex}"], pools["other_surnames"]
            p = Person(
                pid,
                False,
                sex,
                surnames[int(r.integers(len(surnames)))],
                names[int(r.integers(len(names)))],
                born,
            )
        p.country = country
        p.nationality = "CN" if (is_cn and (country == "CN" or r.random() < 0.5)) else country
        p.occupation = occupation
        p.income = income
        n_addr = 1 + int(r.random() < 0.35)
        p.addresses = [self.address(country) for _ in range(n_addr)]
        p.phones = [self.phone(country) for _ in range(1 + int(r.random() < 0.3))]
        user = _ascii(p.canonical()).lower().replace(" ", ".")
        p.emails = [f"{user}{int(r.integers(1, 999))}@{_DOMAINS[int(r.integers(len(_DOMAINS)))]}"]
        p.documents = [
            f"{'E' if p.nationality == 'CN' else 'P'}{int(r.integers(10**7, 10**8))}",
            f"DL{int(r.integers(10**6, 10**7))}",
        ]
        return p

    def people(
        self,
        n: int,
        *,
        chinese: bool | float = 0.5,
        country: str = "CA",
        age: tuple[int, int] = (22, 70),
        occupation: str | list[str | None] | None = None,
        income: float | list[float | None] | None = None,
        year: int = 2015,
    ) -> list[Person]:
        """``n`` people drawn at once (the same model as :meth:`person`, with whole-array draws).

        ``occupation`` and ``income`` are one value for everybody or one per person.
        """
        g = _generator(self.rng)
        pools = _pools()
        u = g.random((n, 13)).T
        is_cn = np.full(n, chinese) if isinstance(chinese, bool) else u[0] < chinese
        male = u[1] < 0.5
        born = (dt.date(year, 7, 1) - EPOCH).days - g.integers(age[0] * 365, age[1] * 365, n)
        gm, gf = pools["given_m"], pools["given_f"]
        size = np.where(male, len(gm), len(gf))
        first = (u[2] * size).astype(np.int64)
        second = (u[3] * (size - 1)).astype(np.int64)
        second += second >= first
        em, ef = pools["english_m"], pools["english_f"]
        english = (u[4] * np.where(male, len(em), len(ef))).astype(np.int64)
        om, of, osur = pools["other_m"], pools["other_f"], pools["other_surnames"]
        other_given = (u[4] * np.where(male, len(om), len(of))).astype(np.int64)
        other_sur = (u[5] * len(osur)).astype(np.int64)
        surname = np.searchsorted(pools["surname_cdf"], u[5], side="right")
        nationality_cn = is_cn & ((country == "CN") | (u[6] < 0.5))
        two_addresses, two_phones = u[7] < 0.35, u[8] < 0.3
        addresses = iter(self.addresses(n + int(two_addresses.sum()), country))
        phones = iter(self.phones(n + int(two_phones.sum()), country))
        mail_no = g.integers(1, 999, n).tolist()
        domain = (u[9] * len(_DOMAINS)).astype(np.int64).tolist()
        passport = g.integers(10**7, 10**8, n).tolist()
        licence = g.integers(10**6, 10**7, n).tolist()
        occupations = occupation if isinstance(occupation, list) else [occupation] * n
        incomes = income if isinstance(income, list) else [income] * n
        surnames = pools["surnames"]
        out = []
        for k, (cn, m, b, i, j, two, eng, has_eng, ogiv, osr, sur, cf, nat_cn, a2, p2) in enumerate(
            zip(
                is_cn.tolist(),
                male.tolist(),
                born.tolist(),
                first.tolist(),
                second.tolist(),
                (u[10] >= 0.25).tolist(),
                english.tolist(),
                (u[11] < 0.45).tolist(),
                other_given.tolist(),
                other_sur.tolist(),
                surname.tolist(),
                (u[12] < 0.3).tolist(),
                nationality_cn.tolist(),
                two_addresses.tolist(),
                two_phones.tolist(),
                strict=True,
            )
        ):
            self.count += 1
            sex = "m" if m else "f"
            if cn:
                pool = gm if m else gf
                given = pool[i] + pool[j] if two else pool[i]
                p = Person(
                    f"H{self.count:08d}",
                    True,
                    sex,
                    surnames[sur],
                    given,
                    b,
                    ((em if m else ef)[eng]) if has_eng else None,
                    cantonese_first=cf,
                )
            else:
                p = Person(f"H{self.count:08d}", False, sex, osur[osr], (om if m else of)[ogiv], b)
            p.country = country
            p.nationality = "CN" if nat_cn else country
            p.occupation = occupations[k]
            p.income = incomes[k]
            p.addresses = [next(addresses), next(addresses)] if a2 else [next(addresses)]
            p.phones = [next(phones), next(phones)] if p2 else [next(phones)]
            user = _ascii(p.canonical()).lower().replace(" ", ".")
            p.emails = [f"{user}{mail_no[k]}@{_DOMAINS[domain[k]]}"]
            p.documents = [f"{'E' if nat_cn else 'P'}{passport[k]}", f"DL{licence[k]}"]
            out.append(p)
        return out

    def addresses(self, n: int, country: str = "CA") -> list[str]:
        """``n`` addresses in ``country`` drawn at once (the model of :meth:`address`)."""
        g = _generator(self.rng)
        if country == "CN":
            draws = _whole(g, n, (1, 300), (0, len(_CN_ROADS)), (0, len(CN_CITIES)))
            return [f"{no} {_CN_ROADS[r]} Road, {CN_CITIES[c]}" for no, r, c in draws]
        unit = np.where(g.random(n) < 0.4, g.integers(100, 3000, n), 0).tolist()
        draws = _whole(g, n, (100, 12000), (0, len(STREETS)), (0, len(CITIES)))
        return [
            f"{f'{un}-' if un else ''}{no} {STREETS[st]}, {CITIES[c]}"
            for un, (no, st, c) in zip(unit, draws, strict=True)
        ]

    def phones(self, n: int, country: str = "CA") -> list[str]:
        """``n`` phone numbers in ``country`` drawn at once (the model of :meth:`phone`)."""
        g = _generator(self.rng)
        if country == "CN":
            return [f"+86 1{a} {b} {c}" for a, b, c in _whole(g, n, (30, 90), (1000, 9999), (1000, 9999))]
        draws = _whole(g, n, (0, len(_AREA_CODES)), (200, 999), (1000, 9999))
        return [f"{_AREA_CODES[a]}-{b}-{c}" for a, b, c in draws]

    def _one(self, seq):
        return seq[int(self.rng.integers(len(seq)))]

    def address(self, country: str = "CA") -> str:
        r = self.rng
        if country == "CN":
            return f"{int(r.integers(1, 300))} {self._one(_CN_ROADS)} Road, {self._one(CN_CITIES)}"
        unit = f"{int(r.integers(100, 3000))}-" if r.random() < 0.4 else ""
        return f"{unit}{int(r.integers(100, 12000))} {self._one(STREETS)}, {self._one(CITIES)}"

    def phone(self, country: str = "CA") -> str:
        r = self.rng
        if country == "CN":
            return (
                f"+86 1{int(r.integers(30, 90))} {int(r.integers(1000, 9999))} {int(r.integers(1000, 9999))}"
            )
        return f"{self._one(_AREA_CODES)}-{int(r.integers(200, 999))}-{int(r.integers(1000, 9999))}"

    def company_name(self) -> str:
        r = self.rng
        a = int(r.integers(len(COMPANY_WORDS)))
        b = int(r.integers(len(COMPANY_WORDS) - 1))
        b += b >= a
        return f"{COMPANY_WORDS[a]} {COMPANY_WORDS[b]} {self._one(COMPANY_KINDS)} Ltd"


def _whole(g: np.random.Generator, n: int, *ranges: tuple[int, int]):
    """Per row, one whole number in [low, high) for each of ``ranges`` (drawn a column at a time)."""
    return zip(*(g.integers(low, high, n).tolist() for low, high in ranges), strict=True)


def _generator(rng: FastRandom | np.random.Generator) -> np.random.Generator:
    """The numpy Generator behind ``rng`` (whole-array draws bypass the scalar blocks)."""
    return rng.gen if isinstance(rng, FastRandom) else rng


_DOMAINS = ("gmail.com", "hotmail.com", "qq.com", "shaw.ca")
_CN_ROADS = ("Zhongshan", "Renmin", "Jiefang", "Huanshi")
_AREA_CODES = ("604", "778", "236")
_POOLS: dict | None = None


def _pools() -> dict:
    """Name pools by sex and the surname frequency curve, built once."""
    global _POOLS
    if _POOLS is None:
        lex = load_names()
        n = len(lex.surnames)
        w = 1.0 / np.arange(1, n + 1) ** 0.9  # Zipf-like: Chen, Wang, Li, Zhang are very common
        _POOLS = {
            "surnames": [s.character for s in lex.surnames],
            "surname_cdf": np.cumsum(w / w.sum())[:-1],
            **{f"given_{x}": [g.character for g in lex.given if g.gender in (x, "n")] for x in "mf"},
            **{f"english_{x}": [nm for nm, g in lex.english_given if g == x] for x in "mf"},
            **{f"other_{x}": [nm for nm, g in lex.other_given if g == x] for x in "mf"},
            "other_surnames": list(lex.other_surnames),
        }
    return _POOLS


@cache
def _pinyin_parts(surname: str, given: str) -> tuple[str, str]:
    lex = _readings()
    sur = "".join(lex[0].get(c, "x") for c in surname).capitalize()
    giv = "".join(lex[1].get(c, lex[0].get(c, "x")) for c in given).capitalize()
    return sur, giv


@cache
def _cantonese_parts(surname: str, given: str) -> tuple[str, str]:
    lex = _readings()
    sur = " ".join(lex[2].get(c, "x") for c in surname).title()
    giv = " ".join(lex[3].get(c, lex[2].get(c, "x")) for c in given).title()
    return sur, giv


def _ascii(s: str) -> str:
    return s.encode("ascii", "ignore").decode()


_READINGS: tuple[dict, dict, dict, dict] | None = None


def _readings() -> tuple[dict, dict, dict, dict]:
    global _READINGS
    if _READINGS is None:
        lex = load_names()
        _READINGS = (
            {s.character: s.pinyin for s in lex.surnames},
            {g.character: g.pinyin for g in lex.given},
            {s.character: s.cantonese[0] for s in lex.surnames},
            {g.character: g.cantonese[0] for g in lex.given},
        )
    return _READINGS


def typo(rng: FastRandom, name: str) -> str:
    """One keyboard-style typo (drop, double or swap a letter) in the longest word."""
    words = name.split(" ")
    i = max(range(len(words)), key=lambda k: len(words[k]))
    w = words[i]
    if len(w) < 4:
        return name
    j = int(rng.integers(1, len(w) - 1))
    op = int(rng.integers(3))
    if op == 0:
        w = w[:j] + w[j + 1 :]
    elif op == 1:
        w = w[:j] + w[j] + w[j:]
    else:
        w = w[: j - 1] + w[j] + w[j - 1] + w[j + 1 :]
    words[i] = w
    return " ".join(words)


def spelled(rng: FastRandom, p: Person, source: str) -> tuple[str, str | None, str]:
    """(name, name_native, variant) as ``source`` would write ``p``'s name."""
    if not p.chinese:
        u = rng.random()
        if source == "land_title":
            return f"{p.surname.upper()}, {p.given.upper()}", None, "order_swapped"
        if u < 0.06:
            return typo(rng, p.canonical()), None, "typo"
        return p.canonical(), None, "exact"
    psur, pgiv = p.pinyin_parts()
    csur, cgiv = p.cantonese_parts()
    own_sur = csur if p.cantonese_first else psur
    other = "pinyin" if p.cantonese_first else "cantonese"
    u = rng.random()
    if source == "bank":
        if p.english and u < 0.5:
            return f"{p.english} {own_sur}", None, "english_name"
        if u < 0.58:
            return typo(rng, p.canonical()), None, "typo"
        return p.canonical(), None, "exact"
    if source == "casino":
        if p.english and u < 0.3:
            return f"{p.english} {csur}", None, "english_name"
        if u < 0.75:
            return f"{csur} {cgiv}", None, "cantonese" if not p.cantonese_first else "order_swapped"
        return f"{cgiv} {csur}", None, "cantonese" if not p.cantonese_first else "exact"
    if source == "land_title":
        name = f"{psur.upper()}, {pgiv.upper()}"
        if u < 0.5:
            return name, p.native, "native"
        return name, None, "order_swapped" if not p.cantonese_first else "pinyin"
    if source == "msb":
        if u < 0.2:
            return p.native or p.canonical(), p.native, "native"
        return f"{own_sur.upper()} {pgiv if not p.cantonese_first else cgiv}", None, "order_swapped"
    # any other source: the person's own spelling, or the other romanisation
    if u < 0.3:
        return (f"{pgiv} {psur}" if other == "pinyin" else f"{cgiv} {csur}"), None, other
    return p.canonical(), p.native if u > 0.8 else None, "exact"


def record(
    book: Book,
    rng: FastRandom,
    p: Person,
    source: str,
    *,
    role: str = "legitimate",
    network: str | None = None,
    occupation: str | None = None,
    income: float | None = None,
) -> int:
    """Add the party record ``source`` keeps about ``p``; returns the party index."""
    name, native, variant = spelled(rng, p, source)
    missing_dob = rng.random() < (0.15 if source == "casino" else 0.06)
    latest = rng.random() < 0.7
    return book.party(
        kind="person",
        name=name,
        name_native=native,
        source=source,
        person_id=p.person_id,
        role=role,
        network=network,
        variant=variant,
        birth_date=None if missing_dob else p.birth_date,
        nationality=p.nationality,
        occupation=occupation if occupation is not None else p.occupation,
        declared_income=income if income is not None else p.income,
        address=p.addresses[-1] if latest else p.addresses[0],
        phone=p.phones[-1] if latest or rng.random() < 0.5 else p.phones[0],
        email=p.emails[0] if rng.random() < 0.75 else None,
        document_number=p.documents[0 if source in ("casino", "msb") else min(1, len(p.documents) - 1)]
        if rng.random() < 0.8
        else None,
        country=p.country,
    )


def company(
    book: Book,
    name: str,
    source: str,
    company_id: str,
    *,
    role: str = "legitimate",
    network: str | None = None,
    address: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    country: str = "CA",
    variant: str = "exact",
) -> int:
    """Add a company's party record in ``source``; the name is formatted the source's way."""
    shown = name
    if source == "customs":
        shown = name.upper().replace(" LTD", " LIMITED")
        variant = "company_upper" if variant == "exact" else variant
    return book.party(
        kind="company",
        name=shown,
        source=source,
        person_id=company_id,
        role=role,
        network=network,
        variant=variant,
        address=address,
        phone=phone,
        email=email,
        country=country,
        nationality=country,
    )
