"""The workbench's reader: cached answers follow the workspace when a stage rewrites a table."""

from __future__ import annotations

from moneytrail.investigate.web import leads
from moneytrail.investigate.web.reader import Reader
from tests.utils.web_fixtures import make_web_workspace


def test_reader_sees_rewritten_tables_and_drops_its_cache(workspace):
    ws = make_web_workspace(workspace, legit_parties=10, legit_txns=50)
    reader = Reader(ws).open()
    assert reader.cached(("n",), lambda: leads.list_leads(reader)["total"]) == 2
    ws.write("leads", ws.read("leads").slice(0, 1))
    reader._version_checked = 0.0  # skip the five-second wait between looks
    assert leads.list_leads(reader)["total"] == 1
    assert reader.cached(("n",), lambda: leads.list_leads(reader)["total"]) == 1
    legs = list((ws.root / ".cache").glob("workbench_legs-*.arrow"))
    assert len(legs) == 1
    reader.close()
