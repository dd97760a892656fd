"""The book of a world: the rows of every table except the bulk legitimate transactions.

Parties, accounts, casino sessions, properties, transfers, shipments and links are few enough to
be kept as Python column lists. Criminal and special legitimate transactions are gathered as
tuples and turned into numpy column chunks every few ten thousand rows, so a large world holds
them in compact arrays; the bulk legitimate transactions are generated per chunk as numpy arrays
(:mod:`moneytrail.simulate.legit_bulk`) and merged with these at write time.

Every row carries its truth beside it (role, network, indicators, stage), so the truth tables are
written from the same rows as the data and can never drift from them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import itemgetter

import numpy as np

US_PER_DAY = 86_400_000_000
US_PER_HOUR = 3_600_000_000

CHANNELS = (
    "cash",
    "wire",
    "eft",
    "etransfer",
    "cheque",
    "bank_draft",
    "casino_buy_in",
    "casino_cash_out",
    "crypto",
    "mortgage",
    "other",
)
CHANNEL = {c: i for i, c in enumerate(CHANNELS)}
STAGES = ("legitimate", "supply", "placement", "layering", "integration")
STAGE = {s: i for i, s in enumerate(STAGES)}
# the book's transaction columns and their dtypes
TXN_DTYPES = {
    "ts": np.int64,
    "src": np.int64,
    "dst": np.int64,
    "amount": np.float64,
    "currency": np.int16,
    "amount_cad": np.float64,
    "channel": np.int8,
    "denom": np.int32,
    "csrc": np.int16,
    "cdst": np.int16,
    "memo": np.int32,
    "source": np.int16,
    "laundering": np.bool_,
    "indicators": np.int32,
    "network": np.int32,
    "stage": np.int8,
    "typology": np.int32,
    "ref": np.int64,
}
TXN_CHUNK_ROWS = 1 << 16
# the columns of the party and account rows, in the order Book.party and Book.account give them
PARTY_COLUMNS = (
    "kind", "name", "name_native", "birth_date", "nationality", "occupation", "declared_income", "address",
    "phone", "email", "document_number", "country", "source", "person_id", "role", "network", "variant",
)  # fmt: skip
ACCOUNT_COLUMNS = (
    "holder", "institution", "itype", "country", "currency", "opened_at", "is_external", "source", "role",
    "network", "typology",
)  # fmt: skip


class Vocab:
    """A growing list of strings with stable small-integer codes (code 0 is the empty value)."""

    def __init__(self, first: tuple[str, ...] = ()):
        self.items: list[str | None] = [None, *first]
        self.index: dict[str, int] = {s: i + 1 for i, s in enumerate(first)}

    def code(self, s: str | None) -> int:
        if not s:
            return 0
        c = self.index.get(s)
        if c is None:
            c = len(self.items)
            self.items.append(s)
            self.index[s] = c
        return c

    def codes(self, values: list | tuple) -> np.ndarray:
        """The codes of ``values`` as int32, new strings coded in order of first appearance."""
        mapping = {v: self.code(v) for v in dict.fromkeys(values)}
        return np.fromiter(map(mapping.__getitem__, values), np.int32, len(values))


@dataclass
class Rows:
    """Column lists of one table."""

    cols: dict[str, list] = field(default_factory=dict)

    def add(self, **values) -> int:
        n = len(next(iter(self.cols.values()))) if self.cols else 0
        if not self.cols:
            self.cols = {k: [] for k in values}
        for k, v in values.items():
            self.cols[k].append(v)
        return n

    def append(self, names: tuple[str, ...], row: tuple) -> int:
        """Like :meth:`add` with the values given in the order of ``names`` (no keyword dict to
        build and walk: the entity tables take hundreds of thousands of rows)."""
        cols = self.cols
        if not cols:
            self.cols = cols = {k: [] for k in names}
        n = len(cols[names[0]])
        for k, v in zip(names, row, strict=True):
            cols[k].append(v)
        return n

    def __len__(self) -> int:
        return len(next(iter(self.cols.values()))) if self.cols else 0


@dataclass
class Book:
    """All non-bulk rows of a world plus the vocabularies shared with the bulk generator."""

    parties: Rows = field(default_factory=Rows)
    accounts: Rows = field(default_factory=Rows)
    sessions: Rows = field(default_factory=Rows)
    properties: Rows = field(default_factory=Rows)
    transfers: Rows = field(default_factory=Rows)
    shipments: Rows = field(default_factory=Rows)
    links: Rows = field(default_factory=Rows)
    entity_labels: Rows = field(default_factory=Rows)
    networks: Rows = field(default_factory=Rows)
    # transactions: recent rows as tuples, older ones already converted to numpy column chunks
    # (a bounded number of Python objects however large the world)
    txn_rows: list[tuple] = field(default_factory=list)
    txn_chunks: list[dict[str, np.ndarray]] = field(default_factory=list)
    memos: Vocab = field(default_factory=Vocab)
    currencies: Vocab = field(default_factory=lambda: Vocab(("CAD", "CNY", "USD", "HKD")))
    countries: Vocab = field(default_factory=lambda: Vocab(("CA", "CN", "HK", "US", "SG", "KR", "MO")))
    sources: Vocab = field(default_factory=lambda: Vocab(("bank", "casino", "msb", "land_title", "customs")))
    indicators: Vocab = field(default_factory=Vocab)
    network_ids: Vocab = field(default_factory=Vocab)
    typologies: Vocab = field(default_factory=Vocab)
    # account index -> country code, so transactions know both sides' countries
    account_country: list[str] = field(default_factory=list)
    _next_ref: int = 0
    # indicator lists already joined in their canonical order
    _joined: dict[tuple, str] = field(default_factory=dict)

    # -- entities ---------------------------------------------------------------------------
    def party(
        self,
        *,
        kind: str,
        name: str | None,
        source: str,
        person_id: str,
        role: str = "legitimate",
        network: str | None = None,
        variant: str = "exact",
        name_native: str | None = None,
        birth_date: int | None = None,
        nationality: str | None = None,
        occupation: str | None = None,
        declared_income: float | None = None,
        address: str | None = None,
        phone: str | None = None,
        email: str | None = None,
        document_number: str | None = None,
        country: str | None = "CA",
    ) -> int:
        """Add a party record and its identity truth; returns its index (id ``P%08d``)."""
        return self.parties.append(
            PARTY_COLUMNS,
            (kind, name, name_native, birth_date, nationality, occupation, declared_income, address, phone,
             email, document_number, country, source, person_id, role, network, variant),
        )  # fmt: skip

    def account(
        self,
        *,
        holder: int | None,
        institution: str,
        itype: str,
        source: str,
        opened_at: int,
        country: str = "CA",
        currency: str = "CAD",
        role: str = "legitimate",
        network: str | None = None,
        typology: str | None = None,
        is_external: bool = False,
    ) -> int:
        """Add an account and its truth; returns its index (id ``A%08d``)."""
        self.account_country.append(country)
        return self.accounts.append(
            ACCOUNT_COLUMNS,
            (holder, institution, itype, country, currency, opened_at, is_external, source, role, network,
             typology),
        )  # fmt: skip

    # -- transactions -----------------------------------------------------------------------
    def txn(
        self,
        ts: int,
        src: int,
        dst: int,
        amount_cad: float,
        channel: str,
        *,
        currency: str = "CAD",
        rate: float = 1.0,
        denom: int = 0,
        memo: str | None = None,
        source: str = "bank",
        network: str | None = None,
        indicators: str | list[str] | None = None,
        stage: str = "legitimate",
        typology: str | None = None,
    ) -> int:
        """Add one transaction given its CAD value; returns a reference for later look-ups.

        Foreign legs (``currency`` other than CAD) get ``amount = amount_cad / rate`` rounded to
        the cent, and ``amount_cad`` recomputed from the rounded amount so the two always agree.
        """
        amount_cad = round(float(amount_cad), 2)
        amount = amount_cad if currency == "CAD" else round(amount_cad / rate, 2)
        if currency != "CAD":
            amount_cad = round(amount * rate, 2)
        if isinstance(indicators, (list, tuple)):
            key = tuple(indicators)
            joined = self._joined.get(key)
            indicators = joined if joined is not None else self._join(key)
        # strings are coded when the rows become columns (see _flush_txns), once per chunk
        rows = self.txn_rows
        rows.append(
            (
                int(ts),
                src,
                dst,
                amount,
                currency,
                amount_cad,
                CHANNEL[channel],
                denom,
                memo,
                source,
                network,
                indicators,
                STAGE[stage],
                typology,
            )
        )
        if len(rows) >= TXN_CHUNK_ROWS:
            self._flush_txns()
        ref = self._next_ref
        self._next_ref += 1
        return ref

    def txns(
        self,
        ts: int | Sequence[int],
        src: int | Sequence[int],
        dst: int | Sequence[int],
        amount_cad: float | Sequence[float],
        channel: str,
        *,
        currency: str = "CAD",
        rate: float = 1.0,
        denom: int = 0,
        memo: str | None = None,
        source: str = "bank",
        network: str | None = None,
        indicators: str | list[str] | None = None,
        stage: str = "legitimate",
        typology: str | None = None,
    ) -> None:
        """Add several transactions at once: the rows :meth:`txn` would add one call per row, in
        order. ``ts``, ``src``, ``dst`` and ``amount_cad`` are each one value for every row or a
        sequence with one value per row; the other fields are shared.

        >>> book.txns(ts, street, [1, 2], [20.0, 40.0], "cash", denom=20)  # doctest: +SKIP
        """
        per_row = [x for x in (ts, src, dst, amount_cad) if isinstance(x, (list, tuple, np.ndarray))]
        n = len(per_row[0]) if per_row else 1
        if any(len(x) != n for x in per_row):
            raise ValueError("Book.txns needs sequences of one length.")
        if n == 0:
            return

        def column(x, convert):
            if isinstance(x, np.ndarray):
                x = x.tolist()
            return list(map(convert, x)) if isinstance(x, (list, tuple)) else [convert(x)] * n

        cad = [round(a, 2) for a in column(amount_cad, float)]
        if currency == "CAD":
            amount = cad
        else:
            amount = [round(a / rate, 2) for a in cad]
            cad = [round(a * rate, 2) for a in amount]
        if isinstance(indicators, (list, tuple)):
            key = tuple(indicators)
            joined = self._joined.get(key)
            indicators = joined if joined is not None else self._join(key)
        fields = (
            column(ts, int),
            column(src, int),
            column(dst, int),
            amount,
            repeat(currency, n),
            cad,
            repeat(CHANNEL[channel], n),
            repeat(denom, n),
            repeat(memo, n),
            repeat(source, n),
            repeat(network, n),
            repeat(indicators, n),
            repeat(STAGE[stage], n),
            repeat(typology, n),
        )
        self.txn_rows.extend(zip(*fields, strict=True))
        if len(self.txn_rows) >= TXN_CHUNK_ROWS:
            self._flush_txns()
        self._next_ref += n

    def _join(self, indicators: list[str] | tuple[str, ...]) -> str:
        """Indicator ids joined in their canonical order (cached per list)."""
        key = tuple(indicators)
        joined = self._joined.get(key)
        if joined is None:
            joined = self._joined[key] = ";".join(sorted(set(key), key=_indicator_key))
        return joined

    def _flush_txns(self) -> None:
        """Turn the pending transaction rows into one chunk of numpy columns."""
        rows = self.txn_rows
        if not rows:
            return
        # one column at a time (zip(*rows) over tens of thousands of rows is several times slower)
        (ts, src, dst, amount, currency, amount_cad, channel, denom, memo, source, network, indicators, stage,
         typology) = (list(map(itemgetter(i), rows)) for i in range(len(rows[0])))  # fmt: skip
        n = len(rows)
        src_a, dst_a = np.asarray(src, np.int64), np.asarray(dst, np.int64)
        # countries coded in the order both ends are first seen
        ends = np.column_stack([src_a, dst_a]).ravel().tolist()
        country = self.account_country
        cc = self.countries.codes([country[a] for a in ends]).reshape(n, 2)
        start = sum(len(c["ts"]) for c in self.txn_chunks)
        self.txn_chunks.append(
            {
                "ts": np.asarray(ts, np.int64),
                "src": src_a,
                "dst": dst_a,
                "amount": np.asarray(amount, np.float64),
                "currency": self.currencies.codes(currency).astype(np.int16),
                "amount_cad": np.asarray(amount_cad, np.float64),
                "channel": np.asarray(channel, np.int8),
                "denom": np.asarray(denom, np.int32),
                "csrc": cc[:, 0].astype(np.int16),
                "cdst": cc[:, 1].astype(np.int16),
                "memo": self.memos.codes(memo),
                "source": self.sources.codes(source).astype(np.int16),
                "laundering": np.fromiter((x is not None for x in network), np.bool_, n),
                "indicators": self.indicators.codes(indicators),
                "network": self.network_ids.codes(network),
                "stage": np.asarray(stage, np.int8),
                "typology": self.typologies.codes(typology),
                "ref": np.arange(start, start + n, dtype=np.int64),
            }
        )
        rows.clear()

    def label(
        self, kind: str, entity_id: str, indicators: list[str], network: str | None, stage: str
    ) -> None:
        """Truth for a non-transaction record that carries indicators."""
        self.entity_labels.add(
            entity_kind=kind,
            entity_id=entity_id,
            indicator_ids=";".join(sorted(set(indicators), key=_indicator_key)),
            network_id=network,
            stage=stage,
        )

    def txn_arrays(self) -> dict[str, np.ndarray]:
        """The book's transactions as numpy arrays (one per column).

        String columns are coded here for the rows added since the last chunk, so call this
        before reading the vocabularies.
        """
        self._flush_txns()
        if not self.txn_chunks:
            return {k: np.empty(0, dt) for k, dt in TXN_DTYPES.items()}
        if len(self.txn_chunks) > 1:
            self.txn_chunks[:] = [{k: np.concatenate([c[k] for c in self.txn_chunks]) for k in TXN_DTYPES}]
        return dict(self.txn_chunks[0])


def _indicator_key(ind: str) -> tuple[str, int]:
    return (ind[0], int(ind[1:]) if ind[1:].isdigit() else 0)


def pid(i: int) -> str:
    return f"P{i:08d}"


def aid(i: int) -> str:
    return f"A{i:08d}"
