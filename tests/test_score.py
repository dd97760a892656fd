"""Scoring: features, unsupervised and supervised scores, leads, explanations, evaluate, export."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from moneytrail.engine import make_engine
from moneytrail.engine.duckdb_engine import sql_literal
from moneytrail.ingest import ingest
from moneytrail.score.evaluate import evaluate_scores
from moneytrail.score.export import COLUMNS, export_csv
from moneytrail.score.model import RiskModel, load_models
from moneytrail.score.pipeline import score_workspace
from moneytrail.score.train import train_models
from moneytrail.score.unsupervised import UnsupervisedScorer, alert_mask
from moneytrail.workspace import Workspace
from tests.conftest import AMLSIM_DIR, TIDE_DIR, needs_benchmarks

pytestmark = pytest.mark.duckdb


def _trim(ws: Workspace, where: str) -> None:
    """Keep the transactions matching ``where`` (and their labels) so the tests stay fast."""
    con = duckdb.connect()
    for area, name in (("tables", "transactions"), ("truth", "transaction_labels")):
        if not ws.has(name, area):
            continue
        src = ws.path("transactions")
        keep = f"SELECT txn_id FROM read_parquet({sql_literal(str(src))}) WHERE {where}"
        with ws.writing(name, area) as tmp:
            con.execute(
                f"COPY (SELECT * FROM read_parquet({sql_literal(str(ws.path(name, area)))}) "
                f"WHERE txn_id IN ({keep}) ORDER BY txn_id) TO {sql_literal(str(tmp))} (FORMAT parquet)"
            )
    con.close()


def _small(tmp: Path, fmt: str) -> Workspace:
    ws = Workspace(tmp / fmt)
    if fmt == "amlsim":
        ingest(AMLSIM_DIR, "amlsim", ws, progress=False)
        _trim(ws, "ts < TIMESTAMP '2017-03-01'")
    else:
        ingest(TIDE_DIR, "tide", ws, progress=False)
        _trim(ws, "ts >= TIMESTAMP '2025-03-01' AND ts < TIMESTAMP '2025-03-08'")
    return ws


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> dict:
    """Small AMLSim and Tide workspaces, scored without labels, plus a model trained on AMLSim."""
    if not AMLSIM_DIR.is_dir() or not TIDE_DIR.is_dir():
        pytest.skip("the shared benchmark data is not beside the project")
    root = tmp_path_factory.mktemp("score")
    aml = _small(root, "amlsim")
    tide = _small(root, "tide")
    with make_engine("duckdb", aml) as eng:
        aml_result = score_workspace(eng, aml, progress=False)
    model = root / "aml-model.json"
    report = train_models(aml, model, folds=2, n_estimators=60)
    with make_engine("duckdb", tide) as eng:
        tide_result = score_workspace(eng, tide, model_path=model, progress=False)
    return {
        "aml": aml,
        "tide": tide,
        "aml_result": aml_result,
        "tide_result": tide_result,
        "model": model,
        "report": report,
    }


@needs_benchmarks()
def test_every_account_score_has_an_explanation(scored):
    ws = scored["aml"]
    acc = ws.read("account_scores").to_pandas()
    assert len(acc) == ws.row_count("accounts")
    assert acc["reason"].notna().all() and (acc["reason"].str.len() > 0).all()
    active = acc[acc["score"] > 0]
    assert len(active) > 0
    for c in active["contributions"]:
        assert json.loads(c), "a positive score must name the features behind it"
    alerted = acc[acc["alert"]]
    assert 0 < len(alerted) <= int(0.01 * len(acc))
    assert alerted["evidence_txn_ids"].notna().all()
    assert acc.loc[acc["alert"], "score"].min() >= acc.loc[~acc["alert"], "score"].max()


@needs_benchmarks()
def test_transaction_and_party_scores_cover_everything(scored):
    ws = scored["aml"]
    tx = ws.read("transaction_scores").to_pandas()
    assert len(tx) == ws.row_count("transactions")
    assert tx["txn_id"].is_unique
    assert tx["alert"].sum() <= int(0.01 * len(tx)) + 1
    # Every payment carries its one-line reason, in its own row.
    assert tx["reason"].str.startswith("payer risk ").all()
    assert tx["reason"].str.contains(", pair seen ").all()
    parties = ws.read("party_scores").to_pandas()
    assert parties["party_id"].is_unique and len(parties) > 0


@needs_benchmarks()
def test_leads_have_members_value_span_and_narrative(scored):
    leads = scored["aml"].read("leads").to_pandas()
    assert len(leads) > 0
    assert list(leads["rank"]) == list(range(1, len(leads) + 1))
    for _, lead in leads.iterrows():
        assert lead["member_account_ids"] and lead["member_party_ids"]
        assert lead["total_value_cad"] > 0
        assert lead["first_ts"] <= lead["last_ts"]
        assert lead["lead_id"] in lead["narrative"] and len(lead["narrative"]) > 80
    acc = scored["aml"].read("account_scores").to_pandas()
    members = {a for m in leads["member_account_ids"] for a in m.split(";")}
    assert set(acc.loc[acc["alert"], "account_id"]) <= members


@needs_benchmarks()
def test_model_trained_on_amlsim_runs_on_tide(scored):
    assert scored["tide_result"]["mode"] == "model"
    models, meta = load_models(scored["model"])
    assert "account" in models and meta["cv"]["positives"] > 0
    acc = scored["tide"].read("account_scores").to_pandas()
    assert len(acc) == scored["tide"].row_count("accounts")
    assert acc["score"].between(0, 1).all() and acc["score"].nunique() > 10
    # SHAP contributions explain the model's scores.
    top = json.loads(acc.sort_values("score").iloc[-1]["contributions"])
    assert top and all(v > 0 for v in top.values())


@needs_benchmarks()
def test_evaluate_returns_the_metrics(scored):
    m = evaluate_scores(scored["aml"])
    for level in ("accounts", "transactions"):
        assert 0 < m[level]["average_precision"] <= 1
        for key in ("f1_at_alert", "precision_at_budget", "recall_at_budget"):
            assert 0 <= m[level][key] <= 1
    assert m["accounts"]["positives"] > 0
    assert m["recall_per_typology"], "recall per typology is reported"
    # Better than chance: the base rate is the positives' share.
    assert m["accounts"]["average_precision"] > 2 * m["accounts"]["positives"] / m["accounts"]["n"]


@needs_benchmarks()
def test_exports_have_the_design_columns_and_source_ids(scored, tmp_path):
    ws = scored["aml"]
    sources = set(ws.read("accounts").to_pandas()["source_id"])
    txn_sources = set(ws.read("transactions").to_pandas()["source_id"])
    with make_engine("duckdb", ws) as eng:
        for kind in ("account-scores", "transaction-scores", "leads"):
            out = tmp_path / f"{kind}.csv"
            n = export_csv(eng, kind, out)
            with open(out, newline="") as fh:
                rows = list(csv.reader(fh))
            assert rows[0] == COLUMNS[kind]
            assert len(rows) - 1 == n > 0
            if kind == "account-scores":
                assert {r[0] for r in rows[1:]} <= sources
                assert {r[2] for r in rows[1:]} <= {"0", "1"}
            if kind == "transaction-scores":
                assert {r[0] for r in rows[1:]} <= txn_sources
            if kind == "leads":
                assert {a for r in rows[1:] for a in r[7].split(";")} <= sources


def test_alert_mask_is_the_operating_point():
    scores = np.array([0.9, 0.1, 0.5, 0.5, 0.0, 0.3, 0.2, 0.8, 0.7, 0.6] * 10)
    ids = np.array([f"a{i:03d}" for i in range(100)])
    mask = alert_mask(scores, ids, 0.05)
    assert mask.sum() == 5
    assert scores[mask].min() >= scores[~mask].max()
    assert not alert_mask(np.zeros(100), ids, 0.05).any()


def test_unsupervised_contributions_sum_to_the_score():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "n_in": rng.integers(0, 5, 200),
            "n_out": rng.integers(0, 5, 200),
            "cp_single_pair_share": rng.random(200),
            "oneoff_offsched_n": rng.integers(0, 3, 200),
            "hop_share": np.where(rng.random(200) < 0.3, rng.random(200), 0),
            "hit_score": np.where(rng.random(200) < 0.1, rng.random(200), 0),
        }
    )
    u = UnsupervisedScorer().fit(X)
    s = u.score_samples(X)
    assert np.allclose(u.contributions(X).sum(axis=1), s)
    # More of a laundering signal never lowers the score.
    X2 = X.assign(cp_single_pair_share=X["cp_single_pair_share"] + 0.5)
    assert (u.score_samples(X2) >= s - 1e-12).all()


def test_risk_model_round_trip_and_missing_features(tmp_path):
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.random(300), "b": rng.random(300)})
    y = (X["a"] + 0.1 * rng.random(300) > 0.6).astype(int)
    m = RiskModel(n_estimators=30).fit(X, y)
    from moneytrail.score.model import save_models

    path = save_models(tmp_path / "m.json", {"account": m})
    m2 = load_models(path)[0]["account"]
    assert np.allclose(m.predict_proba(X), m2.predict_proba(X))
    c = m2.contributions(X)
    assert np.allclose(1 / (1 + np.exp(-c.sum(axis=1))), m2.predict_proba(X)[:, 1])
    p = m2.predict_proba(X[["a"]])  # 'b' missing: filled and reported, not fatal
    assert p.shape == (300, 2) and m2.missing_features_ == ["b"]


def _signals(rows: list[tuple]) -> pd.DataFrame:
    """Transaction signals of a hand-made ledger of (txn_id, day, src, dst, amount, channel)."""
    from moneytrail.score.signals import txn_signals_sql

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE transactions (txn_id VARCHAR, ts TIMESTAMP, src_account_id VARCHAR, "
        "dst_account_id VARCHAR, amount DOUBLE, amount_cad DOUBLE, currency VARCHAR, channel VARCHAR)"
    )
    for txn_id, day, src, dst, amount, channel in rows:
        con.execute(
            "INSERT INTO transactions VALUES (?, TIMESTAMP '2024-01-01' + ?::INTEGER * INTERVAL 1 DAY, "
            "?, ?, ?, ?, 'CAD', ?)",
            [txn_id, day, src, dst, amount, amount, channel],
        )
    out = con.execute(txn_signals_sql() + " ORDER BY txn_id").df().set_index("txn_id")
    con.close()
    return out


def test_signals_flag_a_one_off_payment_outside_the_payers_rhythm():
    # P pays its landlord every 7 days, and once pays a stranger on day 10.
    rows = [(f"r{w:02d}", 7 * w, "P", "L", 1000.0, "eft") for w in range(8)]
    rows.append(("x", 10, "P", "S", 400.0, "eft"))
    s = _signals(rows)
    assert s.loc["x", "src_off_schedule"] == 1 and s.loc["x", "pair_n"] == 1
    routine = s.drop(index="x")
    assert (routine["src_off_schedule"] == 0).all() and (routine["pair_n"] == 8).all()


def test_signals_flag_money_passed_on_at_a_similar_value_within_days():
    rows = [
        ("a1", 0, "A", "B", 1000.0, "wire"),
        ("a2", 1, "B", "C", 950.0, "wire"),  # passed on: a hop
        ("b1", 0, "D", "E", 1000.0, "eft"),
        ("b2", 1, "E", "F", 400.0, "eft"),  # far smaller: not a hop
        ("c1", 0, "G", "H", 1000.0, "eft"),
        ("c2", 6, "H", "I", 1000.0, "eft"),  # too late: not a hop
    ]
    s = _signals(rows)
    assert (s.loc["a1", ["forwarded", "fed", "hop", "wire"]] == [1, 0, 1, 1]).all()
    assert (s.loc["a2", ["forwarded", "fed", "hop"]] == [0, 1, 1]).all()
    assert (s.loc[["b1", "b2", "c1", "c2"], "hop"] == 0).all()
    assert s.loc["b1", "wire"] == 0


def test_account_signal_features_roll_up_the_worst_payments():
    from moneytrail.score.signals import account_signal_features_sql

    rows = [(f"r{w:02d}", 7 * w, "P", "L", 1000.0, "eft") for w in range(8)]
    rows += [("x", 10, "P", "S", 400.0, "eft"), ("y", 11, "S", "T", 390.0, "eft")]
    sig = _signals(rows).reset_index()
    con = duckdb.connect()
    con.register("txn_signals", sig)
    acc = con.execute(account_signal_features_sql()).df().set_index("account_id")
    con.close()
    # S received a one-off payment outside P's rhythm and passed it on the next day.
    assert acc.loc["S", "oneoff_offsched_n"] >= 1 and acc.loc["S", "hop_share"] == 1.0
    assert acc.loc["L", "oneoff_offsched_n"] == 0 and acc.loc["L", "hop_n"] == 0
    assert acc.loc["L", "cp_oneoff_offsched_mean"] == 1.0  # its only counterparty, P, did one


def test_unsupervised_weights_a_measure_by_how_rare_it_is():
    # 'common' is non-zero on every account, 'rare' on one in twenty: the same percentile on the
    # rare measure counts for more.
    n = 200
    X = pd.DataFrame(
        {
            "n_in": np.ones(n),
            "n_out": np.ones(n),
            "common": np.linspace(0.01, 1, n),
            "rare": np.where(np.arange(n) % 20 == 0, np.linspace(0.01, 1, n), 0.0),
        }
    )
    u = UnsupervisedScorer(anomaly_weights={"common": 1.0, "rare": 1.0}).fit(X)
    assert u.information_["rare"] > u.information_["common"] == pytest.approx(0.25)
    c = u.contributions(X)
    assert c["rare"].max() > c["common"].max()
    assert np.allclose(c.sum(axis=1), u.score_samples(X))
    # Inactive accounts get no anomaly evidence at all.
    idle = X.assign(n_in=0.0, n_out=0.0)
    assert (u.score_samples(idle) == 0).all()


def test_relay_features_tell_the_relay_from_the_ends_of_a_hop():
    from moneytrail.score.signals import account_signal_features_sql

    rows = [("a1", 0, "A", "B", 1000.0, "wire"), ("a2", 1, "B", "C", 950.0, "wire")]
    sig = _signals(rows).reset_index()
    con = duckdb.connect()
    con.register("txn_signals", sig)
    acc = con.execute(account_signal_features_sql()).df().set_index("account_id")
    con.close()
    assert acc.loc["B", ["relay_n", "relay_share", "fed_share"]].tolist() == [1, 1.0, 1.0]
    assert acc.loc["A", "relay_n"] == 0 and acc.loc["C", "relay_n"] == 0


@needs_benchmarks()
def test_training_validates_on_every_transaction_and_reports_the_floor(scored):
    report = scored["report"]
    # Validation scores every transaction of the held-out groups, not the training sample.
    assert report["transactions"] == scored["aml"].row_count("transactions")
    assert 0 < report["cv_transaction_average_precision"] <= 1
    assert 0 < report["cv_floor_account_average_precision"] <= 1
    assert 0 < report["cv_account_model_average_precision"] <= 1


def test_roll_up_takes_the_riskiest_payment_and_breaks_ties_with_the_account_model():
    from moneytrail.score.model import riskiest_transaction, roll_up

    accounts = pd.Series(["a", "b", "c", "d"])
    src, dst = pd.Series(["a", "b"]), pd.Series(["b", "c"])
    txn = np.array([0.9, 0.2])
    best = riskiest_transaction(accounts, src, dst, txn)
    assert best.tolist() == [0, 0, 1, -1]
    s = roll_up(txn, best, np.array([0.0, 0.0, 0.5, 1.0]))
    assert s[0] == pytest.approx(s[1])  # both ends of the 0.9 payment
    assert s[0] > s[2] > s[3] > 0  # c's best payment is 0.2; d has none, only its own score
    assert roll_up(txn, best, np.array([0.0, 1.0, 0.0, 0.0]))[1] > s[1]


def test_rolled_up_scores_are_explained_by_the_riskiest_payment():
    from moneytrail.score.explain import account_reason, rolled_contributions, top_contributions

    rng = np.random.default_rng(3)
    X = pd.DataFrame({"amount_ratio": rng.normal(size=400), "noise": rng.normal(size=400)})
    y = (X["amount_ratio"] > 1.0).to_numpy().astype(int)
    txn_model = RiskModel(n_estimators=30, min_child_samples=5).fit(X, y)
    account_contrib = pd.DataFrame({"n_in": [0.5, 0.7], "bias": [-1.0, -1.0]}, index=[10, 11])
    risky = int(np.argmax(X["amount_ratio"]))
    out = rolled_contributions(account_contrib, txn_model, X, np.array([risky, -1]))
    top = top_contributions(out)
    # the first account is explained by its payment's features, the second keeps its own
    assert top[0][0][0] == "payment:amount_ratio" and top[1] == [("n_in", 0.7)]
    assert out.loc[0, "payment:amount_ratio"] == pytest.approx(
        txn_model.contributions(X.iloc[[risky]])["amount_ratio"].iloc[0]
    )
    assert "riskiest payment: amount ratio" in account_reason(0.9, top[0], None, None)


def test_sampled_oof_predicts_every_row_from_a_model_that_never_saw_its_group(monkeypatch):
    from moneytrail.score import train

    monkeypatch.setattr(train, "MAX_TXN_NEGATIVES", 50)
    rng = np.random.default_rng(0)
    n = 600
    X = pd.DataFrame({"x": rng.normal(size=n), "noise": rng.normal(size=n)})
    y = (X["x"] > 1.2).to_numpy().astype(int)
    groups = np.arange(n) % 6
    oof = train.sampled_group_oof(RiskModel(n_estimators=30, min_child_samples=5), X, y, groups, 3, 0)
    assert (oof > 0).all()  # every row got an out-of-fold prediction, not only the sampled ones
    assert oof[y == 1].mean() > oof[y == 0].mean() + 0.3


def test_alert_mask_breaks_ties_by_id_whether_ids_are_numbers_or_text():
    s = np.array([0.5, 0.9, 0.9, 0.0, 0.9, 0.1])  # three rows tie at the top; two alert
    numbers = np.array([0, 10, 9, 3, 2, 5])
    assert np.flatnonzero(alert_mask(s, numbers, 0.34)).tolist() == [2, 4]  # ids 9 and 2: as numbers
    text = numbers.astype(str)
    assert np.flatnonzero(alert_mask(s, text, 0.34)).tolist() == [1, 4]  # "10" < "2" < "9": as text
    assert not alert_mask(np.zeros(4), np.arange(4), 0.5).any()  # a zero score never alerts


def test_contributions_json_is_the_json_of_the_contributions():
    from moneytrail.score.explain import contributions_json

    top = [("hop_share", 0.1234), ("payment:amount", 1e-05), ("x", 3.0)]
    assert contributions_json(top) == json.dumps(dict(top))
    assert json.loads(contributions_json([("a", float("nan"))]))["a"] != 0  # still valid JSON
    assert contributions_json([]) == "{}"


def test_scoring_codes_every_account_and_transaction_in_id_order():
    from moneytrail.score.featurize import coded_accounts_sql, coded_transactions_sql

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE accounts AS SELECT * FROM (VALUES ('b', 'P1', 'CA', 'CAD'), ('a', 'P2', 'CA', 'CAD')) "
        "AS v(account_id, holder_party_id, country, currency)"
    )
    con.execute(
        "CREATE TABLE transactions AS SELECT * FROM (VALUES ('t2', 'a', 'z'), ('t1', 'b', 'a')) "
        "AS v(txn_id, src_account_id, dst_account_id)"
    )
    for col in (
        "ts TIMESTAMP",
        "amount DOUBLE",
        "amount_cad DOUBLE",
        "currency VARCHAR",
        "channel VARCHAR",
        "country_src VARCHAR",
        "country_dst VARCHAR",
    ):
        con.execute(f"ALTER TABLE transactions ADD COLUMN {col}")
    con.execute(f"CREATE TABLE score_accounts AS {coded_accounts_sql()}")
    acc = con.execute("SELECT code, account_key, known FROM score_accounts ORDER BY code").fetchall()
    # 'z' is only seen in a transaction: it is coded (so no payment is lost) but not a known account
    assert acc == [(1, "a", True), (2, "b", True), (3, "z", False)]
    txns = con.execute(f"{coded_transactions_sql()} ORDER BY txn_id").fetchall()
    assert [(t[0], t[1], t[2], t[3]) for t in txns] == [(1, "t1", 2, 1), (2, "t2", 1, 3)]
    con.close()


def test_party_scores_take_the_riskiest_account_and_the_union_of_typologies():
    from moneytrail.score.pipeline import party_scores_sql

    con = duckdb.connect()
    con.execute(
        "CREATE TABLE s AS SELECT * FROM (VALUES ('a1', 'P', 0.2e0, 'S1', 'low'), ('a2', 'P', 0.9e0, 'G1;S1', 'high'), "
        "('a3', 'Q', 0.1e0, NULL, 'q'), ('a4', NULL, 0.99e0, 'G2', 'nobody')) "
        "AS v(account_id, holder_party_id, score, typologies, reason)"
    )
    rows = con.execute(party_scores_sql("s")).fetchall()
    con.close()
    assert rows == [
        ("P", 0.9, "a2;a1", "G1;S1", "accounts a2;a1; best: high"),
        ("Q", 0.1, "a3", None, "accounts a3; best: q"),
    ]


def test_graph_features_are_the_same_from_the_worker_process():
    from moneytrail.score.graph import graph_features_job

    rng = np.random.default_rng(3)
    nodes = np.arange(1, 401)
    edges = pd.DataFrame({"src": rng.integers(1, 401, 3000), "dst": rng.integers(1, 401, 3000)})
    edges = edges[edges["src"] != edges["dst"]].drop_duplicates(["src", "dst"]).reset_index(drop=True)
    edges["n"] = rng.integers(1, 5, len(edges))
    edges["value"] = rng.lognormal(5, 1, len(edges))
    seeds = np.where(rng.random(len(nodes)) < 0.05, 0.8, 0.0)
    ids = np.array([f"A{i:04d}" for i in nodes])
    frames = []
    for worker in (False, True):
        with graph_features_job(nodes, edges, seeds=seeds, ids=ids, seed=5, worker=worker) as job:
            frames.append(job.result())
    assert frames[0]["community_size"].max() > 1 and frames[0]["seed_proximity"].max() > 0
    pd.testing.assert_frame_equal(frames[0], frames[1], check_exact=True)


def test_counterparty_features_from_one_aggregate_of_the_relations():
    from moneytrail.score.features import counterparty_features_sql, pairs_sql, txn_pairs_sql

    con = duckdb.connect()
    # a pays b twice and c once; b pays a once (each payment is seen from both ends).
    payments = [("a", "b", 1), ("a", "b", 2), ("a", "c", 3), ("b", "a", 9)]
    con.execute(
        "CREATE TABLE transactions (src_account_id VARCHAR, dst_account_id VARCHAR, ts TIMESTAMP, "
        "amount DOUBLE, amount_cad DOUBLE)"
    )
    con.executemany(
        "INSERT INTO transactions VALUES (?, ?, TIMESTAMP '2024-01-01' + to_days(?), 10, 10)", payments
    )
    con.execute(f"CREATE TABLE txn_pairs AS {txn_pairs_sql()}")
    assert con.execute("SELECT n FROM txn_pairs WHERE src = 'a' AND dst = 'b'").fetchall() == [(2,)]
    con.execute(f"CREATE TABLE cp_pairs AS {pairs_sql()}")
    cols = "cp_out, cp_in, reciprocal_cp, single_pair_n, single_pair_share, cp_out_mean_degree, cp_single_pair_share"
    rows = con.execute(
        f"SELECT account_id, {cols} FROM ({counterparty_features_sql()}) ORDER BY 1"
    ).fetchall()
    con.close()
    # a: pays b and c, paid by b (reciprocal); one of its four payments is its one-off relation
    # with c, whose only relation (with a) is one-off; both its payees deal with one counterparty.
    assert rows[0] == ("a", 2, 1, 1, 1, 0.25, 1.0, 1.0)
    # c: paid once by a, so its one-off counterparty is a, a quarter of whose payments are one-off.
    assert rows[2] == ("c", 0, 1, 0, 1, 1.0, None, 0.25)


def test_daily_and_weekly_window_features_match_a_direct_count():
    """The busiest day and week, active days and pass-through days, computed from the ordered legs
    (only days with several legs grouped), equal a plain count per account and day."""
    from moneytrail.score.features import leg_sequence_sql, legs_sql, window_features_sql

    rng = np.random.default_rng(3)
    n = 400
    ledger = pd.DataFrame(
        {
            "src_account_id": rng.integers(1, 9, n),
            "dst_account_id": rng.integers(1, 9, n),
            # a few weeks, several payments a day, some at the very same instant
            "ts": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 40 * 24, n) // 3 * 3, unit="h"),
            "amount": rng.choice([100.0, 95.0, 250.0, 1000.0], n),
        }
    )
    ledger["amount_cad"], ledger["channel"] = ledger["amount"], "eft"
    ledger["xborder"], ledger["src_foreign"], ledger["dst_foreign"] = 0, 0, 0
    con = duckdb.connect()
    con.register("transactions", ledger)
    con.execute(f"CREATE TABLE legs AS {legs_sql()}")
    con.execute(f"CREATE TABLE leg_seq AS {leg_sequence_sql()}")
    got = con.execute(f"{window_features_sql()} ORDER BY 1").df().set_index("account_id")
    con.close()

    ends = pd.concat(
        [
            ledger.assign(account=ledger["src_account_id"], cp=ledger["dst_account_id"], out=1),
            ledger.assign(account=ledger["dst_account_id"], cp=ledger["src_account_id"], out=0),
        ]
    )
    ends["day"], ends["week"] = (
        ends["ts"].dt.floor("D"),
        ends["ts"].astype("datetime64[s]").astype("int64") // 604800,
    )
    ends["cents"] = (ends["amount"] * 100).round().astype("int64")
    day = ends.groupby(["account", "day"]).apply(
        lambda g: pd.Series(
            {
                "n_in": (g["out"] == 0).sum(),
                "n_out": (g["out"] == 1).sum(),
                "v_in": g.loc[g["out"] == 0, "cents"].sum(),
                "v_out": g.loc[g["out"] == 1, "cents"].sum(),
            }
        )
    )
    day["pass"] = (
        (day["v_in"] > 0)
        & (day["v_out"] > 0)
        & ((day["v_in"] - day["v_out"]).abs() <= 0.2 * day[["v_in", "v_out"]].max(axis=1))
    )
    per_day = day.groupby(level="account").agg(
        active_days=("n_in", "size"),
        max_day_n_in=("n_in", "max"),
        max_day_n_out=("n_out", "max"),
        pass_days=("pass", "sum"),
    )
    week = ends.drop_duplicates(["account", "week", "out", "cp"]).groupby(["account", "week"])["out"]
    weeks = (
        pd.DataFrame({"cp_out": week.sum(), "cp_in": week.size() - week.sum()}).groupby(level="account").max()
    )
    assert (day["n_in"] + day["n_out"] > 1).any() and day["pass"].any()  # the ledger exercises both
    assert list(got.index) == list(per_day.index)
    for col in ("active_days", "max_day_n_in", "max_day_n_out"):
        assert got[col].tolist() == per_day[col].tolist(), col
    assert got["passthrough_day_share"].tolist() == (per_day["pass_days"] / per_day["active_days"]).tolist()
    assert got["max_week_cp_in"].tolist() == weeks["cp_in"].tolist()
    assert got["max_week_cp_out"].tolist() == weeks["cp_out"].tolist()


def test_per_transaction_results_are_put_in_txn_id_order_without_a_sort():
    import pyarrow as pa

    from moneytrail.score.pipeline import in_txn_order

    t = pa.table({"txn_id": [3, 1, 4, 2], "v": ["c", "a", "d", "b"]})
    assert in_txn_order(t).column("v").to_pylist() == ["a", "b", "c", "d"]
    # Ids that are not a numbering 1..n are sorted instead.
    t = pa.table({"txn_id": [7, 5, 5], "v": ["z", "x", "y"]})
    assert in_txn_order(t).column("txn_id").to_pylist() == [5, 5, 7]
