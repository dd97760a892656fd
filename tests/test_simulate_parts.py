"""The simulator's fast parts: batch identities, the book's transaction chunks, time order, ids."""

from __future__ import annotations

import numpy as np
import pytest

from moneytrail.simulate import book as book_module
from moneytrail.simulate.book import CHANNEL, STAGE, Book
from moneytrail.simulate.columns import ids, strings
from moneytrail.simulate.identity import FastRandom, PersonFactory, _ascii
from moneytrail.simulate.legit_bulk import sorted_chunk
from moneytrail.simulate.legit_bulk import time_order as _time_order
from moneytrail.simulate.world import _merge


def test_batch_people_follow_the_person_model_and_are_reproducible():
    def draw(seed):
        pf = PersonFactory(FastRandom(np.random.default_rng(seed)), count=100)
        return pf, pf.people(4000, chinese=0.35, occupation="employee", income=50_000.0)

    pf, people = draw(5)
    assert pf.count == 4100 and people[0].person_id == "H00000101" and people[-1].person_id == "H00004100"
    chinese = [p for p in people if p.chinese]
    assert 0.31 < len(chinese) / len(people) < 0.39
    assert all(p.native and "\u4e00" <= p.native[0] <= "\u9fff" for p in chinese)
    assert all(p.native is None for p in people if not p.chinese)
    assert 0.28 < sum(len(p.addresses) == 2 for p in people) / len(people) < 0.42
    assert 0.23 < sum(len(p.phones) == 2 for p in people) / len(people) < 0.37
    assert all(p.phones[0][:3] in ("604", "778", "236") for p in people)
    assert all(p.occupation == "employee" and p.income == 50_000.0 for p in people)
    users = [p.emails[0].split("@")[0] for p in people]
    assert all(
        u.rstrip("0123456789") == _ascii(p.canonical()).lower().replace(" ", ".")
        for u, p in zip(users, people, strict=True)
    )
    cn = PersonFactory(FastRandom(np.random.default_rng(1))).people(50, chinese=True, country="CN")
    assert all(p.chinese and p.country == "CN" and p.nationality == "CN" for p in cn)
    assert all(p.addresses[0].endswith(("Guangzhou", "Shenzhen", "Beijing", "Shanghai", "Wuhan", "Fuzhou",
                                        "Dongguan")) for p in cn)  # fmt: skip
    assert [p.__dict__ for p in draw(5)[1]] == [p.__dict__ for p in people]


def test_book_transactions_survive_chunking(monkeypatch):
    monkeypatch.setattr(book_module, "TXN_CHUNK_ROWS", 3)
    b = Book()
    for country in ("CA", "CA", "CN", "KR", "BR"):
        b.account(holder=None, institution="x", itype="bank", source="bank", opened_at=0, country=country)
    memos = ["rent", None, "fees", "rent", "gift", "fees", "tuition"]
    refs = [
        b.txn(10 - i, i % 5, (i + 2) % 5, 100.004 + i, "wire", memo=m, network="n1" if i % 2 else None,
              indicators=["S2", "S1"] if i == 3 else None, stage="placement" if i % 2 else "legitimate",
              currency="CNY" if i == 6 else "CAD", rate=0.2)
        for i, m in enumerate(memos)
    ]  # fmt: skip
    assert refs == list(range(7)) and len(b.txn_chunks) == 2 and len(b.txn_rows) == 1
    t = b.txn_arrays()
    assert t["ts"].tolist() == [10, 9, 8, 7, 6, 5, 4] and t["ref"].tolist() == list(range(7))
    # strings are coded in order of first appearance, as if coded one row at a time
    assert [b.memos.items[c] for c in t["memo"]] == memos
    assert b.memos.items == [None, "rent", "fees", "gift", "tuition"]
    assert [b.countries.items[c] for c in t["csrc"]] == ["CA", "CA", "CN", "KR", "BR", "CA", "CA"]
    assert [b.countries.items[c] for c in t["cdst"]] == ["CN", "KR", "BR", "CA", "CA", "CN", "KR"]
    assert t["laundering"].tolist() == [False, True] * 3 + [False]
    assert b.indicators.items[t["indicators"][3]] == "S1;S2" and t["indicators"][2] == 0
    assert t["stage"].tolist()[:2] == [STAGE["legitimate"], STAGE["placement"]]
    assert t["channel"].tolist() == [CHANNEL["wire"]] * 7
    # a foreign leg: amount in yuan rounded to the cent, amount_cad recomputed from it
    assert t["amount"][6] == round(106.0 / 0.2, 2) and t["amount_cad"][6] == round(t["amount"][6] * 0.2, 2)
    assert t["amount"][0] == 100.0 and t["amount_cad"][1] == 101.0
    assert b.txn_arrays()["ts"].tolist() == t["ts"].tolist()  # asking twice gives the same arrays


def test_empty_book_has_typed_empty_arrays():
    t = Book().txn_arrays()
    assert len(t["ts"]) == 0 and t["ts"].dtype == np.int64 and t["laundering"].dtype == np.bool_


@pytest.mark.parametrize(("n", "span"), [(1, 0), (1000, 3), (200_000, 2_678_400_000_000), (5000, 2**61)])
def test_time_order_is_a_stable_sort(n, span):
    ts = np.random.default_rng(n).integers(1_420_070_400_000_000, 1_420_070_400_000_000 + span + 1, n)
    assert np.array_equal(_time_order(ts), np.argsort(ts, kind="stable"))


def test_merge_puts_book_rows_in_time_order_with_their_truth():
    bulk = sorted_chunk({"ts": np.array([5, 1, 3, 3]), "src": np.array([50, 10, 30, 31])})
    assert bulk["ts"].tolist() == [1, 3, 3, 5] and bulk["src"].dtype == np.int32
    booked = {
        "ts": np.array([2, 3, 9]),
        "src": np.array([7, 8, 9]),
        "network": np.array([1, 2, 3], np.int32),
        "ref": np.arange(3),
    }
    m = _merge(bulk, booked)
    assert m["ts"].tolist() == [1, 2, 3, 3, 3, 5, 9]
    # at equal times bulk rows come first, in their own order
    assert m["src"].tolist() == [10, 7, 30, 31, 8, 50, 9]
    assert m["network"].tolist() == [0, 1, 0, 0, 2, 0, 3] and "ref" not in m


def test_ids_and_strings_match_their_plain_definitions():
    numbers = np.random.default_rng(3).integers(0, 10**10, 5000)
    assert ids("T", numbers, 10).to_pylist() == [f"T{x:010d}" for x in numbers.tolist()]
    assert ids("AB", np.arange(7), 5).to_pylist() == [f"AB{x:05d}" for x in range(7)]
    assert ids("S", np.empty(0, np.int64), 9).to_pylist() == []
    codes = np.array([1, 0, 2, 2, 1])
    assert strings(codes, [None, "a", "b"]).to_pylist() == ["a", None, "b", "b", "a"]
    assert strings(codes, ["x", "a", None]).to_pylist() == ["a", "x", None, None, "a"]
    assert strings(codes, ["x", "a", "b"]).null_count == 0


def test_book_txns_adds_the_rows_of_one_txn_call_per_row(monkeypatch):
    monkeypatch.setattr(book_module, "TXN_CHUNK_ROWS", 4)

    def book():
        b = Book()
        for country in ("CA", "CN", "CA"):
            b.account(holder=None, institution="x", itype="bank", source="bank", opened_at=0, country=country)
        return b

    rows = [(7, 0, 1, 1234.567), (3, 0, 2, 0.005), (9, 2, 1, 99.999)]
    shared = {"currency": "CNY", "rate": 0.19, "denom": 20, "memo": "gift", "network": "n1",
              "indicators": ["S2", "G1"], "stage": "layering", "typology": "wire_out"}  # fmt: skip
    one = book()
    one.txn(1, 0, 1, 5.0, "cash")
    for ts, src, dst, amt in rows:
        one.txn(ts, src, dst, amt, "wire", **shared)
    many = book()
    many.txn(1, 0, 1, 5.0, "cash")
    ts, src, dst, amt = (list(c) for c in zip(*rows, strict=True))
    many.txns(np.array(ts), src, np.array(dst), amt, "wire", **shared)
    many.txns(4, 1, [0, 2], 10.0, "eft")  # one value shared by every row, sequences per row
    one.txn(4, 1, 0, 10.0, "eft")
    one.txn(4, 1, 2, 10.0, "eft")
    a, b = one.txn_arrays(), many.txn_arrays()
    assert len(a["ts"]) == 6 and all(np.array_equal(a[k], b[k]) for k in a)
    assert one.indicators.items == many.indicators.items and many.txn(5, 0, 1, 1.0, "cash") == 6
    with pytest.raises(ValueError, match="one length"):
        many.txns([1, 2], 0, [1], 1.0, "cash")


def test_fast_random_serves_a_run_of_draws_like_single_draws():
    single, batch = (FastRandom(np.random.default_rng(9), block=5) for _ in range(2))
    expected = [single.random() for _ in range(13)]
    assert batch.randoms(2) + batch.randoms(0) + batch.randoms(11) == expected
    assert batch.random() == single.random()


def test_party_and_account_rows_keep_every_value_in_its_own_column():
    import inspect

    b = Book()
    party_args = {name: f"v-{name}" for name in inspect.signature(Book.party).parameters if name != "self"}
    account_args = {
        name: f"v-{name}" for name in inspect.signature(Book.account).parameters if name != "self"
    }
    assert b.party(**party_args) == 0 and b.party(**party_args) == 1
    assert b.account(**account_args) == 0
    assert {k: v[1] for k, v in b.parties.cols.items()} == party_args
    assert {k: v[0] for k, v in b.accounts.cols.items()} == account_args
    assert len(b.parties) == 2 and b.account_country == ["v-country"]


def test_population_messages_cross_the_pipe_with_their_arrays():
    import multiprocessing as mp
    import threading

    from moneytrail.simulate.population import _recv, _send

    sent = (
        "chunk",
        (
            {
                "ts": np.arange(300_000, dtype=np.int64),  # larger than a pipe's buffer
                "src": np.arange(10, dtype=np.int32)[::2],  # not contiguous: pickled in place
                "amount": np.linspace(0, 1, 7),
            },
            {"casino": np.empty(0, np.int64), "names": ["a", None]},
        ),
    )
    a, b = mp.Pipe(duplex=False)
    sender = threading.Thread(target=_send, args=(b, sent))
    sender.start()
    status, (txns, sess) = _recv(a)
    sender.join()
    assert status == "chunk" and sess["names"] == ["a", None] and sess["casino"].dtype == np.int64
    for k, v in sent[1][0].items():
        assert txns[k].dtype == v.dtype and np.array_equal(txns[k], v), k
    txns["ts"][0] = 5  # the received arrays are the receiver's own, writable memory
    assert sent[1][0]["ts"][0] == 0


def test_the_population_process_does_not_import_the_writer():
    import subprocess
    import sys

    # the fork server imports this module before each world: Parquet and the writer stay out
    code = (
        "import sys, moneytrail.simulate.population; "
        "print(sorted(m for m in ('pyarrow', 'moneytrail.simulate.world') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
