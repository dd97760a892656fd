"""A small synthetic identity world: people recorded several times under varied names.

Used by the tests and the benchmark. Each person appears in one to five sources (bank, casino,
land_title, customs, msb) with a name variant (pinyin, Cantonese romanisation, order swapped,
adopted English name, typo, characters only), missing fields and the odd changed phone, and
households share an address and a phone, so precision is tested as well as recall.

Returns ``parties`` and ``party_labels`` Arrow tables in the canonical schemas.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from moneytrail.resolve.lexicon import default_lexicon
from moneytrail.schema import table

SOURCES = ("bank", "casino", "land_title", "customs", "msb")
WESTERN_GIVEN = (
    "james",
    "mary",
    "robert",
    "patricia",
    "john",
    "jennifer",
    "michael",
    "linda",
    "david",
    "elizabeth",
    "william",
    "barbara",
    "richard",
    "susan",
    "joseph",
    "jessica",
    "thomas",
    "sarah",
    "charles",
    "karen",
    "daniel",
    "nancy",
    "matthew",
    "lisa",
    "anthony",
    "betty",
)
WESTERN_SURNAME = (
    "smith",
    "johnson",
    "williams",
    "brown",
    "jones",
    "garcia",
    "miller",
    "davis",
    "rodriguez",
    "martinez",
    "hernandez",
    "lopez",
    "gonzalez",
    "wilson",
    "anderson",
    "thomas",
    "taylor",
    "moore",
    "jackson",
    "martin",
    "lee",
    "thompson",
    "white",
    "harris",
    "clark",
    "lewis",
    "robinson",
    "walker",
    "young",
    "allen",
    "king",
    "wright",
    "scott",
    "torres",
    "nguyen",
    "hill",
    "flores",
    "green",
    "adams",
    "nelson",
    "baker",
    "hall",
    "campbell",
    "mitchell",
    "carter",
    "roberts",
    "tremblay",
    "gagnon",
    "roy",
)
STREETS = (
    "main st",
    "granville st",
    "no 3 rd",
    "kingsway",
    "broadway",
    "cambie st",
    "oak st",
    "victoria dr",
    "fraser st",
    "knight st",
    "marine dr",
    "hastings st",
    "robson st",
)
VARIANTS = ("pinyin", "cantonese", "order_swapped", "english_name", "typo", "native")


def _typo(rng: np.random.Generator, word: str) -> str:
    if len(word) < 4:
        return word
    i = int(rng.integers(1, len(word) - 2))
    op = rng.integers(0, 3)
    if op == 0:  # transposition
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op == 1:  # deletion
        return word[:i] + word[i + 1 :]
    return word[:i] + "aeiou"[int(rng.integers(0, 5))] + word[i + 1 :]  # substitution


def _cap(words: list[str]) -> str:
    return " ".join(w.capitalize() for w in words)


def synthetic_parties(
    n_persons: int = 1000, seed: int = 0, share_chinese: float = 0.7
) -> tuple[pa.Table, pa.Table]:
    """Generate ``n_persons`` people as party records; returns (parties, party_labels)."""
    rng = np.random.default_rng(seed)
    lex = default_lexicon()
    surnames = sorted(lex.surnames)
    givens = sorted(set(lex.pinyin) - lex.surnames)
    # Zipf-like surname frequencies: a few surnames are very common, as in real populations
    sw = 1.0 / np.arange(1, len(surnames) + 1) ** 0.9
    sw /= sw.sum()
    english = sorted(lex.english_names)
    rows: list[dict] = []
    labels: list[dict] = []
    base = dt.date(1950, 1, 1)
    household_addr: str | None = None
    household_phone: str | None = None
    for p in range(n_persons):
        pid = f"P{p:07d}"
        chinese = rng.random() < share_chinese
        if chinese:
            sur = surnames[int(rng.choice(len(surnames), p=sw))]
            k = 2 if rng.random() < 0.8 else 1
            given = "".join(givens[int(i)] for i in rng.integers(0, len(givens), k))
            native = sur + given
            py = lex.romanised(native, "pinyin")
            ca = lex.romanised(native, "cantonese")
            eng = english[int(rng.integers(0, len(english)))]
        else:
            sur_w = WESTERN_SURNAME[int(rng.integers(0, len(WESTERN_SURNAME)))]
            giv_w = WESTERN_GIVEN[int(rng.integers(0, len(WESTERN_GIVEN)))]
        birth = base + dt.timedelta(days=int(rng.integers(0, 365 * 55)))
        if rng.random() < 0.25 and household_addr is not None:
            # same household as the previous person: shared address and landline
            addr, phone = household_addr, household_phone
        else:
            addr = f"{int(rng.integers(100, 99999))} {STREETS[int(rng.integers(0, len(STREETS)))]}, vancouver"
            phone = f"+1 604 {int(rng.integers(200, 999))} {int(rng.integers(1000, 9999))}"
        household_addr, household_phone = addr, phone
        email_user = py[0] + (py[1] if len(py) > 1 else "") if chinese else giv_w + "." + sur_w
        email = f"{email_user}{int(rng.integers(1, 999))}@mail.example"
        doc = f"{'CN' if chinese else 'CA'}{int(rng.integers(10**7, 10**8))}"
        n_rec = int(rng.choice([1, 2, 3, 4, 5], p=[0.3, 0.3, 0.2, 0.12, 0.08]))
        sources = rng.permutation(len(SOURCES))[:n_rec]
        for r, s in enumerate(sources):
            native_out = None
            if chinese:
                variant = "pinyin" if r == 0 else VARIANTS[int(rng.integers(0, len(VARIANTS)))]
                given_py = "".join(py[1:])
                if variant == "pinyin":
                    name = _cap([py[0], given_py])
                    native_out = native if rng.random() < 0.5 else None
                elif variant == "cantonese":
                    name = _cap([ca[0], "-".join(ca[1:]) if rng.random() < 0.5 else " ".join(ca[1:])])
                elif variant == "order_swapped":
                    src = py if rng.random() < 0.5 else ca
                    name = _cap([" ".join(src[1:]), src[0]])
                elif variant == "english_name":
                    src = ca if rng.random() < 0.6 else py
                    name = _cap([eng, src[0]]) if rng.random() < 0.6 else _cap([eng, *src])
                elif variant == "typo":
                    name = _cap([py[0], _typo(rng, given_py)])
                else:
                    name = None
                    native_out = native
            else:
                variant = "exact" if r == 0 or rng.random() < 0.7 else "typo"
                name = _cap([giv_w, sur_w if variant == "exact" else _typo(rng, sur_w)])
            rec_phone = phone if rng.random() < 0.6 else None
            if rec_phone and rng.random() < 0.1:
                rec_phone = f"+1 778 {int(rng.integers(200, 999))} {int(rng.integers(1000, 9999))}"
            rec_birth = birth if rng.random() < 0.85 else None
            if rec_birth and rng.random() < 0.03:
                rec_birth = rec_birth + dt.timedelta(days=int(rng.integers(1, 28)))
            source = SOURCES[int(s)]
            party_id = f"{source}:{pid}-{r}"
            rows.append(
                {
                    "party_id": party_id,
                    "kind": "person",
                    "name": name,
                    "name_native": native_out,
                    "birth_date": rec_birth,
                    "nationality": "CN" if chinese else "CA",
                    "address": addr if rng.random() < 0.5 else None,
                    "phone": rec_phone,
                    "email": email if rng.random() < 0.4 else None,
                    "document_number": doc if rng.random() < 0.3 else None,
                    "country": "CA",
                    "source": source,
                    "source_id": f"{pid}-{r}",
                }
            )
            labels.append(
                {
                    "party_id": party_id,
                    "person_id": pid,
                    "role": "legitimate",
                    "name_variant": variant,
                    "source": "synthetic",
                }
            )
    parties = _to_table("parties", rows)
    truth = _to_table("party_labels", labels)
    return parties, truth


def _to_table(name: str, rows: list[dict]) -> pa.Table:
    schema = table(name).arrow_schema()
    cols = {f.name: [r.get(f.name) for r in rows] for f in schema}
    return pa.table(cols, schema=schema)


SIM_SOURCES = ("bank", "casino", "land_title", "msb", "customs")


# small businesses named "<word> <kind>", as the simulator names them: unrelated firms share these
SMALL_BUSINESS_KINDS = ("Services Ltd", "Supplies Ltd", "Consulting Inc", "Auto Repair", "Restaurant")


def simulator_parties(
    n_persons: int = 1000, seed: int = 0, share_chinese: float = 0.6, n_companies: int = 0
) -> tuple[pa.Table, pa.Table]:
    """People drawn and spelled by the simulator's identity model (``moneytrail.simulate``), each
    recorded by one to four sources; returns (parties, party_labels) like a simulated world.

    With ``n_companies``, firms too: most are foreign suppliers recorded by customs (upper case)
    and by a bank, each with its own address, so the two records share only the
    registered name and country; the rest are one-record small businesses with common names
    ("Lucky Supplies Ltd") that unrelated firms share. Falls back to :func:`synthetic_parties`
    (persons only) when the simulator is not available.
    """
    try:
        from moneytrail.simulate.book import Book
        from moneytrail.simulate.identity import PersonFactory, company, record
        from moneytrail.simulate.writer import parties_columns, party_labels_columns
    except ImportError:  # pragma: no cover - only without the simulator
        return synthetic_parties(n_persons, seed)
    rng = np.random.default_rng(seed)
    book = Book()
    pf = PersonFactory(rng)
    for _ in range(n_persons):
        per = pf.person(chinese=share_chinese)
        n_rec = int(rng.choice([1, 2, 3, 4], p=[0.35, 0.35, 0.2, 0.1]))
        for s in rng.permutation(len(SIM_SOURCES))[:n_rec]:
            record(book, rng, per, SIM_SOURCES[int(s)])
    for i in range(n_companies):
        cid = f"C{i:05d}"
        if rng.random() < 0.7:
            # named as the simulator names its foreign suppliers
            name = f"{pf.company_name().replace(' Ltd', '')} {'Manufacturing' if i % 2 else 'Chemical'} Co"
            company(book, name, "customs", cid, country="CN", address=pf.address("CN"))
            company(book, name, "bank", cid, country="CN", address=pf.address("CN"))
        else:
            kind = SMALL_BUSINESS_KINDS[int(rng.integers(len(SMALL_BUSINESS_KINDS)))]
            company(book, f"{pf.company_name().split(' ')[0]} {kind}", "bank", cid, address=pf.address())
    parties = pa.table(parties_columns(book))
    labels = pa.table(party_labels_columns(book))
    return (
        parties.select(table("parties").column_names).cast(table("parties").arrow_schema()),
        labels.select(table("party_labels").column_names).cast(table("party_labels").arrow_schema()),
    )
