"""Watchlist loading and screening: romanisations are found, common short names do not flood."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
import pytest

from moneytrail.ingest import ingest
from moneytrail.ingest.formats.watchlist_csv import parse_country, parse_dob, sdn_display_name
from moneytrail.resolve import resolve_workspace
from moneytrail.schema import table
from moneytrail.workspace import Workspace

pytestmark = pytest.mark.duckdb

SDN = (
    '36,"CHEN, Guoqiang","individual","SDNTKX",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,'
    '"DOB 15 Jan 1965; nationality China; Passport E1234567."\n'
    '37,"GOLDEN DRAGON TRADING LTD","-0- ","SDNTKX",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"Linked To: CHEN, Guoqiang."\n'
    '38,"LI, Wei","individual","SDNTKX",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"DOB 02 Mar 1980; nationality Canada."\n'
)
ALT = '36,12,"aka","KWOK, Keung",-0- \n'


def _party(pid, name, dob=None, native=None, country="CA", phone=None):
    return {
        "party_id": pid,
        "kind": "person",
        "name": name,
        "name_native": native,
        "birth_date": dob,
        "nationality": None,
        "country": country,
        "phone": phone,
        "source": "bank",
        "source_id": pid,
    }


def test_sdn_remarks_and_names_are_parsed():
    assert parse_dob("DOB 15 Jan 1965; POB Fuzhou") == "1965-01-15"
    assert parse_dob("DOB 1965; nationality China") is None
    assert parse_country("DOB 1965; nationality China.") == "CN"
    assert sdn_display_name("CHEN, Guoqiang", "individual") == "Guoqiang CHEN"


def test_simple_csv_with_a_bad_row_goes_to_the_quarantine(tmp_path):
    path = tmp_path / "local-list.csv"
    path.write_text(
        "name,aliases,birth_date,country,program,entry_id\n"
        "Chen Guoqiang;,Chan Kwok Keung;Kenny Chan,1965-01-15,CN,fentanyl,E1\n"
        "Nobody,,not-a-date,CA,x,E2\n",
        encoding="utf-8",
    )
    ws = Workspace(tmp_path / "ws")
    report = ingest(path, "watchlist-csv", ws, progress=False)
    assert report.tables["watchlist"].loaded == 1 and report.tables["watchlist"].quarantined == 1
    row = ws.read("watchlist").to_pylist()[0]
    assert row["list_name"] == "local-list" and row["aliases"] == "Chan Kwok Keung;Kenny Chan"


@pytest.fixture(scope="module")
def screened(tmp_path_factory):
    root = tmp_path_factory.mktemp("screen")
    (root / "sdn.csv").write_text(SDN, encoding="utf-8")
    (root / "alt.csv").write_text(ALT, encoding="utf-8")
    ws = Workspace(root / "ws")
    ingest(root / "sdn.csv", "watchlist-csv", ws, progress=False)
    born = dt.date(1980, 3, 2)
    rows = [
        _party("LISTED-1", "Chan Kwok Keung", dt.date(1965, 1, 15), phone="604-555-0101"),
        _party("LISTED-2", None, dt.date(1965, 1, 15), native="陈国强"),
        _party("OTHER-1", "Chen Guoqiang", dt.date(1990, 6, 1), phone="604-555-0199"),
        _party("COMPANY", "Golden Dragon Trading Ltd"),
        # a crowd of different people called Li Wei, all born on the listed Li Wei's birthday
        *[
            _party(f"LIWEI-{i:02d}", "Li Wei" if i % 2 else "Lee Wai", born, phone=f"604-555-1{i:03d}")
            for i in range(12)
        ],
        _party("LIWEI-OTHERDAY", "Li Wei", dt.date(1975, 5, 5), phone="604-555-2000"),
    ]
    # filler population so that name rarity means something
    rows += [
        _party(
            f"F{i:03d}",
            f"Person{i} Filler{i % 7}",
            dt.date(1950 + i % 40, 1 + i % 12, 1 + i % 28),
            phone=f"778-555-{i:04d}",
        )
        for i in range(60)
    ]
    ws.write("parties", pa.Table.from_pylist(rows, schema=table("parties").arrow_schema()))
    summary = resolve_workspace(ws, progress=False)
    hits = ws.read("screening_hits").to_pylist()
    return ws, summary, hits


def test_listed_person_is_found_under_another_romanisation(screened):
    ws, summary, hits = screened
    by_party = {h["entity_id"]: json.loads(h["metrics"]) for h in hits}
    assert "LISTED-1" in by_party or "LISTED-2" in by_party
    m = by_party.get("LISTED-1") or by_party["LISTED-2"]
    assert m["entry_id"] == "36" and m["list"] == "OFAC SDN" and m["birth_date_agrees"]
    assert all(h["indicator_ids"] == "W1" and h["detector_id"] == "watchlist_screening" for h in hits)
    assert ws.read("screening_hits").schema.equals(table("screening_hits").arrow_schema())


def test_same_name_with_a_different_birth_date_is_not_a_hit(screened):
    _, _, hits = screened
    assert "OTHER-1" not in {h["entity_id"] for h in hits}


def test_common_short_name_with_shared_birth_date_does_not_flood(screened):
    _, summary, hits = screened
    liwei = [h for h in hits if json.loads(h["metrics"])["entry_id"] == "38"]
    assert len(liwei) == 0
    assert summary["screening"]["ambiguous_entries"] == 1


def test_a_single_li_wei_with_birth_date_and_country_is_a_hit(tmp_path):
    root = tmp_path
    (root / "sdn.csv").write_text(SDN, encoding="utf-8")
    ws = Workspace(root / "ws")
    ingest(root / "sdn.csv", "watchlist-csv", ws, progress=False)
    rows = [
        _party("LW-MATCH", "Lee Wai", dt.date(1980, 3, 2), country="CA"),
        _party("LW-ABROAD", "Li Wei", dt.date(1980, 3, 2), country="HK"),
        _party("LW-NODOB", "Li Wei", None, country="CA"),
    ] + [_party(f"F{i:03d}", f"Person{i} Filler", dt.date(1960, 1, 1 + i % 28)) for i in range(30)]
    ws.write("parties", pa.Table.from_pylist(rows, schema=table("parties").arrow_schema()))
    resolve_workspace(ws, progress=False)
    hit_parties = {
        h["entity_id"]
        for h in ws.read("screening_hits").to_pylist()
        if json.loads(h["metrics"])["entry_id"] == "38"
    }
    # the short name needs birth date and country; the two Li Weis without both are not flagged
    assert "LW-ABROAD" not in hit_parties and "LW-NODOB" not in hit_parties
    assert hit_parties <= {"LW-MATCH"}
