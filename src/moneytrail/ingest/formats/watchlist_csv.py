"""Watch lists as CSV into the canonical ``watchlist`` table, in two layouts.

- The OFAC SDN layout: ``sdn.csv`` without a header, columns ent_num, SDN_Name, SDN_Type, Program,
  Title, Call_Sign, Vess_type, Tonnage, GRT, Vess_flag, Vess_owner, Remarks (``-0-`` is empty).
  The birth date and nationality are read from the remarks ("DOB 15 Jan 1965; nationality China");
  an ``alt.csv`` beside it (ent_num, alt_num, alt_type, alt_name, alt_remarks) gives the aliases.
  Individuals' names "CHEN, Guoqiang" become "Guoqiang CHEN" (the name comparison ignores order).
- A simple CSV with a header: ``name,aliases,birth_date,country,program,entry_id`` (aliases joined
  by ';'; an optional ``list_name`` column, else the file's name is the list's name).

Rows go through the pipeline's validation like any input: a row without a name or id, or with a
bad date, goes to the quarantine with its line number.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import re
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from moneytrail.errors import InputFileError
from moneytrail.ingest.formats import Mapping
from moneytrail.ingest.sources import MAX_RAW_CHARS, Source, ident, sql_literal

COLUMNS = [
    "list_name",
    "entry_id",
    "name",
    "aliases",
    "birth_date",
    "country",
    "program",
    "source",
    "source_id",
]
SDN_COLUMNS = ("ent_num", "SDN_Name", "SDN_Type", "Program", "Title", "Call_Sign", "Vess_type", "Tonnage",
               "GRT", "Vess_flag", "Vess_owner", "Remarks")  # fmt: skip
SIMPLE_REQUIRED = ("name", "entry_id")
EMPTY = {"", "-0-", "-0- "}
_DOB = re.compile(r"\bDOB\s+([^;.]+)", re.I)
_NATIONALITY = re.compile(r"\b(?:nationality|citizen)\s+([^;.]+)", re.I)
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                        "nov", "dec"), 1)}  # fmt: skip


def _open(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", errors="replace", newline="")
    return open(path, encoding="utf-8", errors="replace", newline="")


def _clean(v: str | None) -> str | None:
    if v is None:
        return None
    v = v.strip()
    return None if v in EMPTY else v


def parse_dob(remarks: str | None) -> str | None:
    """The first full birth date in OFAC remarks ("DOB 15 Jan 1965"), as ISO text; None otherwise."""
    if not remarks:
        return None
    m = _DOB.search(remarks)
    if not m:
        return None
    text = m.group(1).strip()
    parts = text.replace(",", " ").split()
    if len(parts) >= 3 and parts[0].isdigit() and parts[1][:3].lower() in _MONTHS and parts[2][:4].isdigit():
        try:
            return dt.date(int(parts[2][:4]), _MONTHS[parts[1][:3].lower()], int(parts[0])).isoformat()
        except ValueError:
            return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text[:10]):
        return text[:10]
    return None  # a year alone ("DOB 1965", "circa 1965") is not a full date


def parse_country(remarks: str | None) -> str | None:
    """ISO alpha-2 country of the nationality in OFAC remarks, when it can be recognised."""
    if not remarks:
        return None
    m = _NATIONALITY.search(remarks)
    if not m:
        return None
    from followthemoney.types import registry

    code = registry.country.clean_text(m.group(1).strip())
    return code.upper() if code and len(code) == 2 else None


def sdn_display_name(name: str, sdn_type: str | None) -> str:
    """'CHEN, Guoqiang' -> 'Guoqiang CHEN' for individuals; other names unchanged."""
    if (sdn_type or "").lower() == "individual" and name.count(",") == 1:
        last, first = (p.strip() for p in name.split(","))
        return f"{first} {last}".strip()
    return name


def _row(line: int, raw: str, check: str | None = None, **values) -> dict:
    row = {c: values.get(c) for c in COLUMNS}
    row.update(line=line, raw=raw[:MAX_RAW_CHARS], check=check)
    return row


def read_aliases(path: Path) -> dict[str, list[str]]:
    """ent_num -> alias names from an OFAC ``alt.csv``."""
    out: dict[str, list[str]] = {}
    with _open(path) as fh:
        for rec in csv.reader(fh):
            if len(rec) >= 4 and _clean(rec[0]) and _clean(rec[3]):
                name = _clean(rec[3])
                out.setdefault(rec[0].strip(), []).append(
                    sdn_display_name(name, "individual") if _clean(rec[2]) in ("aka", "fka", "nka") else name
                )
    return out


def convert_sdn(path: Path) -> list[dict]:
    """Rows of the ``watchlist`` table from an OFAC ``sdn.csv`` (and ``alt.csv`` beside it)."""
    alt = next((p for p in (path.with_name("alt.csv"), path.with_name("ALT.CSV")) if p.is_file()), None)
    aliases = read_aliases(alt) if alt else {}
    rows = []
    with _open(path) as fh:
        for number, rec in enumerate(csv.reader(fh), 1):
            raw = ",".join(rec)
            if not rec or not "".join(rec).strip() or rec[0].strip().startswith("\x1a"):
                continue
            if len(rec) != len(SDN_COLUMNS):
                rows.append(
                    _row(number, raw, f"has {len(rec)} fields; the SDN layout has {len(SDN_COLUMNS)}")
                )
                continue
            f = dict(zip(SDN_COLUMNS, (_clean(v) for v in rec), strict=True))
            ent = f["ent_num"]
            name = f["SDN_Name"]
            rows.append(
                _row(
                    number,
                    raw,
                    None if ent and name else "has no ent_num or SDN_Name",
                    list_name="OFAC SDN",
                    entry_id=ent,
                    name=sdn_display_name(name, f["SDN_Type"]) if name else None,
                    aliases=";".join(aliases.get(ent or "", [])) or None,
                    birth_date=parse_dob(f["Remarks"]),
                    country=parse_country(f["Remarks"]),
                    program=f["Program"],
                    source=path.name,
                    source_id=ent,
                )
            )
    return rows


def convert_simple(path: Path) -> list[dict]:
    """Rows of the ``watchlist`` table from a simple CSV with a header."""
    rows = []
    list_default = path.name.split(".")[0]
    with _open(path) as fh:
        reader = csv.reader(fh)
        header = [h.strip().lower() for h in next(reader, [])]
        missing = [c for c in SIMPLE_REQUIRED if c not in header]
        if missing:
            raise InputFileError(
                f"The watchlist file {path} lacks the column(s) {', '.join(missing)}; its header needs "
                "name,aliases,birth_date,country,program,entry_id."
            )
        for number, rec in enumerate(reader, 2):
            raw = ",".join(rec)
            if not "".join(rec).strip():
                continue
            if len(rec) != len(header):
                rows.append(_row(number, raw, f"has {len(rec)} fields but the header has {len(header)}"))
                continue
            f = {h: _clean(v) for h, v in zip(header, rec, strict=True)}
            rows.append(
                _row(
                    number,
                    raw,
                    list_name=f.get("list_name") or list_default,
                    entry_id=f.get("entry_id"),
                    name=f.get("name"),
                    aliases=f.get("aliases"),
                    birth_date=f.get("birth_date"),
                    country=(f.get("country") or "").upper() or None,
                    program=f.get("program"),
                    source=path.name,
                    source_id=f.get("entry_id"),
                )
            )
    return rows


def _first_record(path: Path) -> list[str]:
    try:
        with _open(path) as fh:
            return next(csv.reader(fh), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def is_sdn(path: Path) -> bool:
    """The headerless SDN layout: twelve fields, the first a number."""
    first = _first_record(path)
    return len(first) == len(SDN_COLUMNS) and first[0].strip().isdigit()


class WatchlistCsvFormat:
    name = "watchlist-csv"
    description = (
        "a watch list as CSV: the OFAC SDN layout (sdn.csv with alt.csv) or name,aliases,birth_date,..."
    )

    def detect(self, path: Path) -> bool:
        if not path.is_file() or not path.name.lower().removesuffix(".gz").endswith(".csv"):
            return False
        if is_sdn(path):
            return True
        header = [h.strip().lower() for h in _first_record(path)]
        return all(c in header for c in SIMPLE_REQUIRED) and "aliases" in header

    def sources(self, path: Path) -> list[Source]:
        if not path.is_file():
            raise InputFileError(f"The watchlist-csv format reads one CSV file; {path} is not a file.")
        rows = convert_sdn(path) if is_sdn(path) else convert_simple(path)
        # staged as all-text Parquet for the pipeline; lives as long as this format object
        self._tmp = tempfile.TemporaryDirectory(prefix="moneytrail-watchlist-")
        self.origin = path
        staged = Path(self._tmp.name) / "watchlist.parquet"
        data = {c: pa.array([r[c] for r in rows], pa.string()) for c in COLUMNS}
        data["line"] = pa.array([r["line"] for r in rows], pa.int64())
        data["raw"] = pa.array([r["raw"] for r in rows], pa.string())
        data["check"] = pa.array([r["check"] for r in rows], pa.string())
        pq.write_table(pa.table(data), staged)
        return [Source("watchlist_csv", staged, "watchlist")]

    def mappings(self, sources: dict[str, Source], con) -> list[Mapping]:
        out = []
        for src in sources.values():
            select = ", ".join(ident(c) for c in COLUMNS)
            sql = (
                f"SELECT {select}, {ident('check')} AS _check, CAST(line AS BIGINT) AS _line, "
                f"{sql_literal(str(self.origin))} AS _file, raw AS _raw FROM {src.relation}"
            )
            out.append(Mapping("watchlist", sql, list(COLUMNS), src, checked=True))
        return out
