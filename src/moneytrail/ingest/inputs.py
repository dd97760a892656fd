"""The input files' sha256 for the run manifest, computed on a thread while DuckDB works.

A file an earlier ingest hashed (same path, size and modification time) is not read again.
:func:`unchanged_since` tells a re-ingest of unchanged input, which has nothing to do.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import os
from pathlib import Path

from moneytrail import __version__
from moneytrail.schema import catalog
from moneytrail.workspace import Workspace, file_sha256

# The status of an ingest run that found its input unchanged since the last ingest.
UNCHANGED = "unchanged"


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


def last_ingest(ws: Workspace) -> tuple[dict, int] | None:
    """The most recent ingest manifest and the time it was written (ns), or None."""
    if not ws.runs_dir.is_dir():
        return None
    found = []
    for p in ws.runs_dir.glob("*.json"):
        found.append((p.stat().st_mtime_ns, p.name, p))
    for mtime_ns, _, p in sorted(found, reverse=True):
        data = json.loads(p.read_text(encoding="utf-8"))
        if data.get("stage") == "ingest":
            return data, mtime_ns
    return None


def unchanged_since(ws: Workspace, options: dict, paths: list[Path]) -> tuple[dict, list[dict]] | None:
    """The last ingest when this one would redo it exactly, with this run's input entries; else None.

    Exactly: the workspace's most recent ingest succeeded with the same ``options`` and
    moneytrail version, read the same files (paths, sizes and a sha256 computed afresh, never
    taken from a record) and no table it wrote has been written since.
    """
    last = last_ingest(ws)
    if last is None:
        return None
    data, written_ns = last
    if (
        data.get("status") not in ("ok", UNCHANGED)
        or data.get("options") != options
        or data.get("versions", {}).get("moneytrail") != __version__
    ):
        return None
    entries = data.get("inputs", [])
    if [e.get("path") for e in entries] != [str(p) for p in paths]:
        return None
    stats = {}
    for e, p in zip(entries, paths, strict=True):
        try:
            stats[p] = p.stat()
        except OSError:
            return None
        if stats[p].st_size != e.get("bytes"):
            return None
    tables = catalog()
    for name, total in data.get("outputs", {}).items():
        if name not in tables:
            return None
        area = tables[name].area
        if ws.has(name, area):
            if ws.path(name, area).stat().st_mtime_ns > written_ns:
                return None
        elif total:
            return None
    current = []
    for e, p in zip(entries, paths, strict=True):
        sha = file_sha256(p)
        if sha != e.get("sha256"):
            return None
        st = stats[p]
        current.append({"path": str(p), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha})
    return data, current
