"""The canonical format: a folder with one CSV or Parquet file per canonical table.

    FOLDER/
      transactions.parquet | transactions.csv | transactions.csv.gz
      accounts.csv ...
      truth/transaction_labels.parquet ...   (optional ground truth, same naming)

Files are named after the tables in canonical.yaml; ids are kept as given. Columns the schema does
not declare are ignored; declared columns a file lacks are empty (required ones must be there).
"""

from __future__ import annotations

from pathlib import Path

from moneytrail.errors import InputFileError
from moneytrail.ingest.formats import Mapping, find_file
from moneytrail.ingest.sources import Source, ident, read_header
from moneytrail.schema import input_tables, table, truth_tables

EXTENSIONS = (".parquet", ".csv", ".csv.gz")


class CanonicalFormat:
    name = "canonical"
    description = "a folder with one CSV or Parquet file per canonical table (ids kept as given)"

    def _files(self, folder: Path) -> list[tuple[str, Path]]:
        out = []
        for area, tables in (("", input_tables()), ("truth", truth_tables())):
            base = folder / area if area else folder
            if not base.is_dir():
                continue
            for t in tables:
                found = [base / f"{t.name}{ext}" for ext in EXTENSIONS if (base / f"{t.name}{ext}").is_file()]
                if len(found) > 1:
                    raise InputFileError(
                        f"The folder {base} has more than one file for table '{t.name}' "
                        f"({', '.join(p.name for p in found)}); keep one."
                    )
                if found:
                    out.append((t.name, found[0]))
        return out

    def detect(self, path: Path) -> bool:
        """A folder with a file named after a table whose header has the table's required columns."""
        if not path.is_dir():
            return False
        for t in input_tables():
            p = find_file(path, t.name, EXTENSIONS)
            if p is None:
                continue
            if p.name.endswith(".parquet"):
                return True
            try:
                header = read_header(p)
            except InputFileError:
                continue
            if t.key in header or set(t.required) <= set(header):
                return True
        return False

    def sources(self, path: Path) -> list[Source]:
        if not path.is_dir():
            raise InputFileError(f"The canonical format reads a folder; {path} is not one.")
        files = self._files(path)
        if not any(table(name).kind == "input" for name, _ in files):
            names = ", ".join(t.name for t in input_tables())
            raise InputFileError(
                f"The folder {path} has no canonical table file; expected files like transactions.csv "
                f"or accounts.parquet named after the tables ({names})."
            )
        out = []
        for name, p in files:
            t = table(name)
            required = tuple(c for c in t.required if not (name == "transactions" and c == "amount_cad"))
            out.append(Source(name=name, path=p, table=name, required=required))
        return out

    def mappings(self, sources: dict[str, Source], con) -> list[Mapping]:
        out = []
        for name, src in sources.items():
            t = table(name)
            present = [c for c in t.column_names if src.has(c)]
            cols = ", ".join(ident(c) for c in present)
            sql = f"SELECT {cols}, _line, _file, {src.raw_columns_sql()} FROM {src.relation}"
            out.append(
                Mapping(table=name, sql=sql, present=present, source=src, raw=src.raw_expr(), positional=True)
            )
        return out
