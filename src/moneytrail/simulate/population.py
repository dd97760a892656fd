"""Building the bulk population (households, businesses, gamblers) beside the laundering networks.

The population is the largest Python part of a world (one identity per household), and nothing
in the networks, their flows or the special legitimate stories reads it: they share only the
institutions built before. So the population is built in a forked process while this one runs
the networks, then appended to the book with its indices shifted. It has its own random stream
and its own block of person ids, so the world is the same whether the two parts ran side by side
or one after the other (``parallel=False``, and on systems without ``fork``).
"""

from __future__ import annotations

import multiprocessing as mp
from dataclasses import fields

import numpy as np

from moneytrail.simulate.book import Book
from moneytrail.simulate.identity import FastRandom, PersonFactory
from moneytrail.simulate.legit_bulk import BulkPopulation
from moneytrail.simulate.legit_world import Institutions, build_bulk_population

# BulkPopulation fields holding account / party indices (the rest are attributes or bank numbers)
_ACCOUNT_FIELDS = (
    "households",
    "household_employer",
    "merchants",
    "cash_businesses",
    "businesses",
    "cash_counters",
    "msb_accounts",
    "cn_recipients",
    "casino_house",
    "rec_patrons",
    "vip_patrons",
)
_PARTY_FIELDS = ("rec_parties", "vip_parties")


def person_count(params: dict, scale: float) -> int:
    """How many people :func:`build_bulk_population` draws (the size of its block of person ids)."""
    return (
        max(20, int(params["households"] * scale))
        + max(5, int(params["recreational_gamblers"] * scale))
        + max(3, int(params["vip_gamblers"] * scale))
        + max(20, int(params["cn_recipients"] * scale))
    )


def _build(book: Book, inst: Institutions, params: dict, scale: float, t0: int, seed, first_person: int):
    """Build the population on ``book`` and return only what it added (rows, countries, arrays)."""
    n_parties, n_accounts = len(book.parties), len(book.accounts)
    rng = np.random.default_rng(seed)
    pf = PersonFactory(FastRandom(rng), count=first_person)
    pop = build_bulk_population(book, pf, inst, params, scale, t0, rng)
    return (
        n_parties,
        n_accounts,
        {k: v[n_parties:] for k, v in book.parties.cols.items()},
        {k: v[n_accounts:] for k, v in book.accounts.cols.items()},
        book.account_country[n_accounts:],
        pop,
    )


def _child(conn, args) -> None:
    try:
        conn.send(("ok", _build(*args)))
    except BaseException as e:  # noqa: BLE001 - handed to the parent, which raises it
        conn.send(("error", e))
    finally:
        conn.close()


class PopulationBuild:
    """Start building the population (in a forked process when possible); :meth:`join` appends it.

    >>> job = PopulationBuild(book, inst, params, scale, t0, seed, first_person)  # doctest: +SKIP
    >>> ...  # build the networks on ``book`` meanwhile
    >>> pop = job.join(book)  # doctest: +SKIP
    """

    def __init__(self, book, inst, params, scale, t0, seed, first_person, *, parallel: bool = True):
        self.args = (book, inst, params, scale, t0, seed, first_person)
        # where the shared prefix (institutions) ends
        self._np, self._na = len(book.parties), len(book.accounts)
        self.proc = None
        if parallel and "fork" in mp.get_all_start_methods():
            ctx = mp.get_context("fork")
            self.conn, child_conn = ctx.Pipe(duplex=False)
            self.proc = ctx.Process(target=_child, args=(child_conn, self.args), daemon=True)
            self.proc.start()
            child_conn.close()

    def join(self, book: Book) -> BulkPopulation:
        """Wait for the population, append its rows to ``book`` and return it re-indexed."""
        if self.proc is None:
            # in-process: build on a copy of the shared prefix so the indices match the forked case
            prefix = Book()
            prefix.parties.cols = {k: list(v[: self._np]) for k, v in book.parties.cols.items()}
            prefix.accounts.cols = {k: list(v[: self._na]) for k, v in book.accounts.cols.items()}
            prefix.account_country = list(book.account_country[: self._na])
            status, payload = "ok", _build(prefix, *self.args[1:])
        else:
            status, payload = self.conn.recv()
            self.proc.join()
        if status != "ok":
            raise payload
        n_parties, n_accounts, parties, accounts, countries, pop = payload
        dp, da = len(book.parties) - n_parties, len(book.accounts) - n_accounts
        holders = accounts["holder"]
        accounts["holder"] = [h + dp if h is not None and h >= n_parties else h for h in holders]
        for k, v in parties.items():
            book.parties.cols[k].extend(v)
        for k, v in accounts.items():
            book.accounts.cols[k].extend(v)
        book.account_country.extend(countries)
        shifted = {}
        for f in fields(pop):
            v = getattr(pop, f.name)
            if f.name in _ACCOUNT_FIELDS:
                v = np.where(v >= n_accounts, v + da, v)
            elif f.name in _PARTY_FIELDS:
                v = np.where(v >= n_parties, v + dp, v)
            shifted[f.name] = v
        return BulkPopulation(**shifted)

    def cancel(self) -> None:
        """Stop the forked build (when the rest of the world failed)."""
        if self.proc is not None and self.proc.is_alive():
            self.proc.terminate()
            self.proc.join()
