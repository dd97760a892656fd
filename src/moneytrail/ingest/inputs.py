"""The input files' sha256 for the run manifest, computed on a thread while DuckDB works.

A file an earlier ingest hashed (same path, size and modification time) is not read again.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from pathlib import Path

from moneytrail.workspace import Workspace, file_sha256


class InputHashes:
    """The sha256 of ``paths``: :meth:`start` begins hashing, :meth:`entries` waits for the results.

    >>> hashes = InputHashes(ws, [Path("transactions.csv")])  # doctest: +SKIP
    >>> hashes.start()  # doctest: +SKIP
    >>> manifest.inputs.extend(hashes.entries())  # doctest: +SKIP
    """

    def __init__(self, ws: Workspace, paths: list[Path]):
        self.ws = ws
        self.paths = paths
        self._pool: cf.ThreadPoolExecutor | None = None
        self._stats: dict[Path, os.stat_result] = {}
        self._hashes: dict[Path, cf.Future] = {}

    def start(self) -> None:
        self._pool = cf.ThreadPoolExecutor(max_workers=1)
        self._stats = {p: p.stat() for p in self.paths}
        known = known_hashes(self.ws)
        for p, st in self._stats.items():
            sha = known.get((str(p), st.st_size, st.st_mtime_ns))
            if sha is not None:
                self._hashes[p] = cf.Future()
                self._hashes[p].set_result(sha)
            else:
                # hashlib releases the GIL, so this runs beside DuckDB's threads.
                self._hashes[p] = self._pool.submit(file_sha256, p)

    def entries(self) -> list[dict]:
        """One manifest entry per file: path, bytes, modification time and sha256."""
        out = []
        for p, fut in self._hashes.items():
            st = self._stats[p]
            out.append(
                {"path": str(p), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": fut.result()}
            )
        return out

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def known_hashes(ws: Workspace) -> dict[tuple[str, int, int], str]:
    """sha256 of inputs earlier ingests recorded, by (path, bytes, modification time in ns)."""
    out = {}
    for m in ws.manifests("ingest"):
        for entry in m.get("inputs", []):
            if {"path", "bytes", "mtime_ns", "sha256"} <= entry.keys():
                out[(entry["path"], entry["bytes"], entry["mtime_ns"])] = entry["sha256"]
    return out
