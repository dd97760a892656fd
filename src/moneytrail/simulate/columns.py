"""Fast conversions from numpy code arrays to Arrow string columns.

Ids are formatted without Python loops (digits computed as a byte matrix), and categorical
columns stay dictionary arrays (integer codes plus the vocabulary): the Parquet writer stores the
codes as they are instead of hashing every string again, and readers see plain strings because
the files carry no Arrow schema (see :mod:`moneytrail.simulate.writer`).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_DIGITS4 = np.array([list(f"{i:04d}".encode()) for i in range(10000)], dtype=np.uint8)
_WORDS4 = _DIGITS4.view(np.uint32).ravel()


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded ``numbers`` as an Arrow string array (``ids('T', [7], 4)`` -> 'T0007')."""
    n = np.asarray(numbers, dtype=np.int64)
    p = prefix.encode()
    size = len(p) + width
    buf = np.empty(len(n) * size, dtype=np.uint8)
    mat = buf.reshape(len(n), size)
    mat[:, : len(p)] = np.frombuffer(p, dtype=np.uint8)
    # four digits per step through a lookup table, each written as one 32-bit word
    rest = n
    end = size
    while end > len(p):
        k = min(4, end - len(p))
        rest, low = np.divmod(rest, 10000)
        if k == 4 and len(n):
            np.ndarray((len(n),), np.uint32, buffer=buf, offset=end - 4, strides=(size,))[:] = _WORDS4[low]
        else:
            mat[:, end - k : end] = _DIGITS4[low][:, 4 - k :]
        end -= k
    offsets = np.arange(len(n) + 1, dtype=np.int32) * size
    return pa.StringArray.from_buffers(len(n), pa.py_buffer(offsets), pa.py_buffer(mat.ravel()))


def nullable_ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """Like :func:`ids`, with negative numbers as nulls."""
    n = np.asarray(numbers, dtype=np.int64)
    out = ids(prefix, np.where(n < 0, 0, n), width)
    if (n < 0).any():
        out = pc.if_else(pa.array(n < 0), pa.nulls(len(n), pa.string()), out)
    return out


def strings(codes: np.ndarray, vocab: list[str | None]) -> pa.DictionaryArray:
    """``codes`` (indices into ``vocab``; a None entry means null) as a dictionary array of strings."""
    codes = np.asarray(codes, dtype=np.int32)
    dictionary = pa.array(["" if v is None else v for v in vocab], type=pa.string())
    missing = [i for i, v in enumerate(vocab) if v is None]
    if not missing:
        return coded(codes, dictionary)
    # usually only code 0 is empty: one comparison instead of a look-up per row
    null = codes == missing[0] if len(missing) == 1 else np.isin(codes, missing)
    return coded(codes, dictionary, null if null.any() else None)


def coded(codes: np.ndarray, dictionary: pa.Array, null: np.ndarray | None = None) -> pa.DictionaryArray:
    """A dictionary array over ``dictionary`` from int32 ``codes`` without copying the codes.

    >>> coded(np.array([1, 0, 1], np.int32), pa.array(["A0", "A1"])).to_pylist()
    ['A1', 'A0', 'A1']
    """
    codes = np.ascontiguousarray(codes, dtype=np.int32)
    validity = None
    if null is not None:
        validity = pa.py_buffer(np.packbits(~np.asarray(null, bool), bitorder="little"))
    indices = pa.Array.from_buffers(pa.int32(), len(codes), [validity, pa.py_buffer(codes)])
    return pa.DictionaryArray.from_arrays(indices, dictionary)


def timestamps(us: np.ndarray) -> pa.Array:
    # a zero-copy view of the int64 microseconds (no pandas, no per-row conversion)
    us = np.ascontiguousarray(us, dtype=np.int64)
    return pa.Array.from_buffers(pa.timestamp("us"), len(us), [None, pa.py_buffer(us)])
