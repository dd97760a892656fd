"""Shared helper for benchmarks: print figures and record them in bench/RESULTS.md.

Each benchmark owns one section (``## name``) of RESULTS.md and rewrites only that section, with
the machine and date, so running one benchmark never loses another's figures.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import threading
from pathlib import Path

import psutil

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
HEADER = "# Benchmark results\n\nWritten by the scripts in `bench/`; each section is replaced when its script runs.\n"


def machine() -> str:
    mem = psutil.virtual_memory().total / 2**30
    cpu = platform.processor() or platform.machine()
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def peak_rss_gib(proc: psutil.Process | None = None) -> float:
    """Peak resident memory of this process (and children) so far, in GiB (Linux ru_maxrss)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, kids) / 2**20


def record(section: str, lines: list[str]) -> None:
    """Print ``lines`` and store them as section ``section`` of RESULTS.md."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = [f"## {section}", "", f"Measured {stamp} on {machine()}.", "", *lines, ""]
    text = "\n".join(body)
    print(text)
    current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else HEADER
    pattern = re.compile(rf"^## {re.escape(section)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        current = pattern.sub(lambda _: text + "\n", current)
    else:
        current = current.rstrip("\n") + "\n\n" + text + "\n"
    RESULTS.write_text(current, encoding="utf-8")


class Sampler:
    """Calls :meth:`sample` every ``every`` seconds on a thread of its own while in a ``with`` block."""

    def __init__(self, every: float) -> None:
        self.every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.sample()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()  # the last state, however short the block
