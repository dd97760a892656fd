"""Building the bulk population (households, businesses, gamblers) beside the laundering networks.

The population is the largest Python part of a world (one identity per household), and nothing
in the networks, their flows or the special legitimate stories reads it: they share only the
institutions built before. So the population is built in a second process while this one runs
the networks, then appended to the book with its indices shifted. It has its own random stream
and its own block of person ids, so the world is the same whether the two parts ran side by side
or one after the other (``parallel=False``, and on systems without ``forkserver``).

The second process then goes on generating the bulk transactions chunk by chunk (a
:class:`BulkPlan`), which a thread of this process receives while the networks are still being
built; the chunks are re-indexed like the population when they are used.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing as mp
import pickle
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, fields

import numpy as np

from moneytrail.simulate.book import Book
from moneytrail.simulate.identity import FastRandom, PersonFactory
from moneytrail.simulate.legit_bulk import BulkGenerator, BulkPopulation, sorted_chunk
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
# bulk chunks generated ahead of their use, at most (each about chunk_rows rows)
CHUNKS_AHEAD = 6


@dataclass(frozen=True)
class BulkPlan:
    """The bulk generator's chunks of days, its calendar and its random seed."""

    chunks: tuple[tuple[int, int], ...]  # (first day, number of days)
    start_us: int
    start_doy: int
    start_dow: int
    seed: np.random.SeedSequence

    def rng(self, k: int) -> np.random.Generator:
        """The random stream of chunk ``k`` (one per chunk, whoever generates it)."""
        return np.random.default_rng(
            np.random.SeedSequence(self.seed.entropy, spawn_key=(*self.seed.spawn_key, k))
        )

    def generate(self, pop: BulkPopulation, params: dict, book: Book) -> Iterator[tuple[dict, dict]]:
        """(transactions, sessions) of every chunk in order."""
        gen = BulkGenerator(pop, params, book, self.start_us, self.start_doy, self.start_dow)
        for k, (d0, dn) in enumerate(self.chunks):
            txns, sess = gen.chunk(self.rng(k), d0, dn)
            # sorted here, beside the networks' flows, so the writing side only inserts book rows
            yield sorted_chunk(txns), sess


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


def _send(conn, message) -> None:
    """Send ``message`` with its arrays' memory written to the pipe as it is: a pickle of the
    rest, the buffer sizes, then each buffer (no copies into a pickle on either side)."""
    buffers: list[pickle.PickleBuffer] = []
    head = pickle.dumps(message, protocol=5, buffer_callback=buffers.append)
    raw = [b.raw() for b in buffers]
    conn.send_bytes(pickle.dumps((head, [r.nbytes for r in raw]), protocol=5))
    for r in raw:
        conn.send_bytes(r)


def _recv(conn):
    """A message sent by :func:`_send`, its arrays read straight into their own memory."""
    head, sizes = pickle.loads(conn.recv_bytes())
    buffers = []
    for n in sizes:
        buf = bytearray(n)
        conn.recv_bytes_into(buf)
        buffers.append(buf)
    return pickle.loads(head, buffers=buffers)


def _child(conn, args: bytes, plan: BulkPlan) -> None:
    # this process builds, sends and exits: a cycle collector's passes would only cost time
    gc.disable()
    try:
        args = pickle.loads(args)
        payload = _build(*args)
        _send(conn, ("ok", payload))
        book, params = args[0], args[2]
        for chunk in plan.generate(payload[-1], params, book):
            _send(conn, ("chunk", chunk))
    except BaseException as e:  # noqa: BLE001 - handed to the parent, which raises it
        _send(conn, ("error", e))
    finally:
        conn.close()


def _shift(v: np.ndarray, first: int, by: int) -> np.ndarray:
    """Indices from ``first`` on moved up by ``by`` (rows appended after the ones added meanwhile)."""
    return np.where(v >= first, v + by, v)


class PopulationBuild:
    """Start building the population (in a second process when possible); :meth:`join` appends it
    and :meth:`chunks` yields the bulk transactions of ``plan``.

    >>> job = PopulationBuild(book, inst, params, scale, t0, seed, first_person, plan)  # doctest: +SKIP
    >>> ...  # build the networks on ``book`` meanwhile
    >>> pop = job.join(book)  # doctest: +SKIP
    >>> for txns, sessions in job.chunks(book, pop): ...  # doctest: +SKIP
    """

    def __init__(self, book, inst, params, scale, t0, seed, first_person, plan, *, parallel: bool = True):
        self.args = (book, inst, params, scale, t0, seed, first_person)
        self.plan = plan
        # where the shared prefix (institutions) ends
        self._np, self._na = len(book.parties), len(book.accounts)
        self._dp = self._da = 0
        self.proc = None
        if parallel and "forkserver" in mp.get_all_start_methods():
            # forked from a single-threaded server, never from this process: forking a process
            # that runs other threads (writers, a test runner's) can leave the child's objects
            # in a state its garbage collector crashes on
            ctx = mp.get_context("forkserver")
            ctx.set_forkserver_preload([__name__])
            conn, child_conn = ctx.Pipe(duplex=False)
            # the arguments are pickled now, while the book holds only the shared prefix: the
            # process is started by the receiving thread (waiting for a fresh fork server to
            # import its modules takes a while), and this one goes on adding to the book meanwhile
            args = pickle.dumps(self.args, protocol=pickle.HIGHEST_PROTOCOL)
            self.proc = ctx.Process(target=_child, args=(child_conn, args, plan), daemon=True)
            self._started = threading.Event()
            # received as they come, so the child runs ahead while this process builds the networks
            self.inbox: queue.Queue = queue.Queue(maxsize=CHUNKS_AHEAD)
            self.reader = threading.Thread(
                target=self._receive, args=(conn, child_conn, len(plan.chunks)), daemon=True
            )
            self.reader.start()

    def _receive(self, conn, child_conn, n_chunks: int) -> None:
        try:
            try:
                self.proc.start()
            finally:
                child_conn.close()
                self._started.set()
            for _ in range(1 + n_chunks):
                msg = _recv(conn)
                self.inbox.put(msg)
                if msg[0] == "error":
                    return
        except (EOFError, OSError) as e:
            self.inbox.put(("error", RuntimeError(f"The population process stopped early ({e!r}).")))
        except BaseException as e:  # noqa: BLE001 - the process could not start: the caller raises it
            self.inbox.put(("error", e))
        finally:
            conn.close()

    def _next(self, expected: str):
        status, payload = self.inbox.get()
        if status != expected:
            self.cancel()
            raise payload
        return payload

    def join(self, book: Book) -> BulkPopulation:
        """Wait for the population, append its rows to ``book`` and return it re-indexed."""
        if self.proc is None:
            # in-process: build on a copy of the shared prefix so the indices match the forked case
            prefix = Book()
            prefix.parties.cols = {k: list(v[: self._np]) for k, v in book.parties.cols.items()}
            prefix.accounts.cols = {k: list(v[: self._na]) for k, v in book.accounts.cols.items()}
            prefix.account_country = list(book.account_country[: self._na])
            payload = _build(prefix, *self.args[1:])
        else:
            payload = self._next("ok")
        n_parties, n_accounts, parties, accounts, countries, pop = payload
        dp, da = len(book.parties) - n_parties, len(book.accounts) - n_accounts
        self._dp, self._da = dp, da
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
                v = _shift(v, n_accounts, da)
            elif f.name in _PARTY_FIELDS:
                v = _shift(v, n_parties, dp)
            shifted[f.name] = v
        return BulkPopulation(**shifted)

    def chunks(self, book: Book, pop: BulkPopulation) -> Iterator[tuple[dict, dict]]:
        """The bulk (transactions, sessions) of every planned chunk, indexed like ``book``;
        ``pop`` is what :meth:`join` returned."""
        if self.proc is None:
            yield from self.plan.generate(pop, self.args[2], book)
            return
        for _ in self.plan.chunks:
            txns, sess = self._next("chunk")
            for col in ("src", "dst"):
                if col in txns:
                    txns[col] = _shift(txns[col], self._na, self._da)
            sess["patron"] = _shift(sess["patron"], self._na, self._da)
            sess["party"] = _shift(sess["party"], self._np, self._dp)
            yield txns, sess
        self.reader.join()
        self.proc.join()

    def cancel(self) -> None:
        """Stop the second process (when the rest of the world failed)."""
        if self.proc is None:
            return
        self._started.wait()
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join()
        # let the receiving thread see the end of the pipe and finish
        while self.reader.is_alive():
            with contextlib.suppress(queue.Empty):
                self.inbox.get(timeout=0.05)
