"""Protocol runs, attacks, plan, audit and report against the CLI; NumPy round trips; interruption."""

import _thread
import threading
import time

import numpy as np
import pytest

import rtas
from conftest import untimed


def test_simulate_on_the_bundled_digits_equals_the_cli(cli):
    r = rtas.simulate("logreg", "rtas", max_steps=3, seed=5)
    want = cli("simulate", "--model", "logreg", "--protocol", "rtas", "--max-steps", 3, "--seed", 5)
    assert untimed(r.to_dict()) == untimed(want)
    assert isinstance(r.loss_curve, np.ndarray) and r.loss_curve.shape == (3,)
    assert not r.loss_curve.flags.writeable
    assert r.train_step.bytes_p0_p1 > 0 and r.steps == 3
    assert "simulate logreg under rtas" in str(r) or "logreg" in str(r)


def _table(rows=250, cols=6, seed=0):
    g = np.random.default_rng(seed)
    x = g.normal(size=(rows, cols))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(float)
    return x, y


def test_numpy_arrays_train_as_the_same_table_from_a_file(cli, tmp_path):
    x, y = _table()
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    (tmp_path / "logreg.toml").write_text(rtas.logreg_toml(6))
    for protocol in ["plain", "rtas", "mpc"]:
        got = rtas.simulate("logreg", protocol, data=(x, y), batch=16, lr=0.2, seed=3, standardize=True)
        want = cli("simulate", "--model", tmp_path / "logreg.toml", "--protocol", protocol, "--batch", 16, "--lr", 0.2, "--seed", 3,
                   "--data-file", tmp_path / "x.npy", "--label", tmp_path / "y.npy", "--standardize")
        # The model's name is its file's path, a temporary one for the arrays' logistic regression.
        got, want = untimed(got.to_dict()), untimed(want)
        assert got.pop("model") != want.pop("model")
        assert got == want, protocol
    # A view that is not C-contiguous (every other column of a wider array) reads the same values.
    wide = np.repeat(x, 2, axis=1)
    strided = rtas.simulate("logreg", "plain", data=(wide[:, ::2], y), batch=16, lr=0.2, seed=3)
    plain = rtas.simulate("logreg", "plain", data=(np.ascontiguousarray(x), y), batch=16, lr=0.2, seed=3)
    strided, plain = untimed(strided.to_dict()), untimed(plain.to_dict())
    assert strided.pop("model").endswith("logreg-6.toml") and plain.pop("model").endswith("logreg-6.toml")
    assert strided == plain


def test_train_and_test_arrays_given_apart():
    x, y = _table(300)
    r = rtas.simulate("logreg", "rtas", data=(x[:200], y[:200]), test=(x[200:], y[200:]), batch=20, lr=0.2, seed=1)
    assert r.train_size == 200 and r.test_size == 100
    assert 0.5 < r.accuracy <= 1.0


def test_bad_arrays_and_options_are_value_errors():
    x, y = _table(50)
    bad = x.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="row 4, column 3"):
        rtas.simulate("logreg", "plain", data=(bad, y), batch=8)
    with pytest.raises(ValueError, match="50 rows of features but 49 labels"):
        rtas.simulate("logreg", "plain", data=(x, y[:-1]))
    with pytest.raises(ValueError, match="2-D"):
        rtas.simulate("logreg", "plain", data=(x[0], y))
    with pytest.raises(ValueError, match="protocol"):
        rtas.simulate("logreg", "no-such-protocol", max_steps=1)
    with pytest.raises(ValueError, match="--batch"):
        rtas.simulate("logreg", "rtas", batch=0, max_steps=1)
    with pytest.raises(ValueError, match="neither logreg, cnn nor a model file"):
        rtas.simulate("/no/such/model.toml", "plain", max_steps=1)
    with pytest.raises(ValueError, match="model must be"):
        rtas.simulate(3.5, "plain")


def test_attacks_equal_the_cli_for_the_same_seed(cli):
    dm = rtas.attack.degree_matching(users=300, items=80, per_user=10, seed=4)
    assert dm.to_dict() == cli("attack", "degree-matching", "--users", 300, "--items", 80, "--per-user", 10, "--seed", 4)
    kp = rtas.attack.known_plaintext(data="gaussian", rows=300, dim=20, outputs=20, known=[5, 25], seed=2)
    want = cli("attack", "known-plaintext", "--data", "gaussian", "--rows", 300, "--dim", 20, "--outputs", 20,
               "--known", "5,25", "--seed", 2)
    assert untimed(kp.to_dict()) == untimed(want)
    hv = rtas.attack.helper_view(steps=2, seed=1)
    assert untimed(hv.to_dict()) == untimed(cli("attack", "helper-view", "--steps", 2, "--seed", 1))


def test_plan_has_a_row_per_protocol(cli):
    p = rtas.plan("logreg", ["rtas", "mpc"], batch=32)
    want = cli("plan", "--model", "logreg", "--protocols", "rtas,mpc", "--batch", 32)
    assert untimed(p.to_dict()) == untimed(want)
    pd = pytest.importorskip("pandas")
    frame = p.to_pandas()
    assert isinstance(frame, pd.DataFrame) and len(frame) == 2


def test_the_fss_gate_is_the_clis(cli):
    # mpc on the two-round DPF gate: the CLI's result, one more round and smaller keys than the DCF gate.
    r = rtas.simulate("logreg", "mpc", max_steps=2, fss_gate="dpf", seed=3)
    want = cli("simulate", "--model", "logreg", "--protocol", "mpc", "--max-steps", 2, "--fss-gate", "dpf", "--seed", 3)
    assert untimed(r.to_dict()) == untimed(want)
    one = rtas.simulate("logreg", "mpc", max_steps=2, seed=3)
    assert r.train_step.rounds == one.train_step.rounds + 1
    assert r.train_step.total_bytes < one.train_step.total_bytes
    p = rtas.plan("cnn", "mpc", fss_gate="dpf")
    assert untimed(p.to_dict()) == untimed(cli("plan", "--model", "cnn", "--protocols", "mpc", "--fss-gate", "dpf"))
    with pytest.raises(ValueError, match="dcf"):
        rtas.simulate("logreg", "mpc", max_steps=1, fss_gate="fast")


def test_audit_of_some_claims_equals_the_cli(cli):
    a = rtas.audit(quick=True, claims=["thm-3.4", "def-3.1"], seed=1)
    want = cli("audit", "--quick", "--claims", "thm-3.4,def-3.1", "--seed", 1)
    assert untimed(a.to_dict()) == untimed(want)
    assert {c.id for c in a.claims} >= {"thm-3.4"}
    assert all(c.verdict for c in a.claims)


def test_report_writes_its_charts(tmp_path):
    r = rtas.report(tmp_path / "out", quick=True, seed=1)
    files = set(r.files)
    assert "README.md" in files and any(f.endswith(".png") for f in files)
    assert (tmp_path / "out" / "README.md").exists()


def test_ctrl_c_stops_a_long_run_and_the_next_run_works():
    # A CNN under mpc for many steps runs for minutes; Ctrl-C (simulated) must stop it within seconds.
    timer = threading.Timer(1.0, _thread.interrupt_main)
    timer.start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        rtas.simulate("cnn", "mpc", max_steps=2000, seed=1)
    assert time.monotonic() - start < 20
    timer.cancel()
    assert rtas.bound.linking(100, 3).rows == 100


def test_the_engine_releases_the_gil():
    # Another Python thread keeps counting while the engine works.
    counted = []

    def count():
        n = 0
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            n += 1
        counted.append(n)

    t = threading.Thread(target=count)
    t.start()
    rtas.estimate.linear(200, 50, relative=0.9, trials=20000, seed=1)
    t.join()
    assert counted and counted[0] > 10000


def test_the_example_runs_on_the_bundled_table(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "compare_protocols.py"), "--out", str(tmp_path)],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    )
    assert "RTAS-fast's third party rebuilds" in out.stdout
    import csv

    with open(tmp_path / "summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["protocol"] for r in rows] == ["plain", "rtas", "rtas-fast", "mpc", "dp-sgd"]
    assert all(0.5 < float(r["accuracy"]) <= 1 for r in rows)
    assert float(rows[3]["offline bytes"]) > float(rows[1]["offline bytes"])  # mpc's keys


def test_views_are_what_each_role_received():
    r = rtas.simulate("logreg", "rtas-fast", max_steps=2, seed=2, views=True)
    assert set(r.views) >= {"P0", "P1", "D", "T"}
    third = r.views["T"]["received"]
    # RTAS-fast's third party receives the first layer's output as shares: one array per message, its bytes
    # what the ledger counts for the link.
    assert third and all(isinstance(m["value"], np.ndarray) for m in third if m["kind"] != "Seed")
    received = sum(m["value"].nbytes for m in third if isinstance(m["value"], np.ndarray))
    links = [l for l in r.train_step.traffic.by_link if l.to == "T"]
    assert received >= sum(l.bytes for l in links) > 0
    assert "views" not in r.to_dict()
    with pytest.raises(AttributeError, match="views=True"):
        rtas.simulate("logreg", "rtas", max_steps=1).views
    with pytest.raises(ValueError, match="has none"):
        rtas.simulate("logreg", "plain", max_steps=1, views=True)


def test_progress_reaches_a_callback_and_a_tqdm_bar():
    seen = []
    rtas.set_progress(lambda pos, length, msg: seen.append((pos, length, msg)))
    try:
        rtas.simulate("cnn", "rtas", max_steps=30, seed=1)
    finally:
        rtas.set_progress("auto")
    assert seen and all(msg.startswith("simulate cnn") for _, _, msg in seen)
    assert all(length == seen[0][1] and 0 <= pos <= length for pos, length, _ in seen)
    assert [p for p, _, _ in seen] == sorted(p for p, _, _ in seen)
    with pytest.raises(ValueError):
        rtas.set_progress("sometimes")
    tqdm = pytest.importorskip("tqdm")
    rtas.set_progress(True)
    try:
        assert rtas.simulate("logreg", "rtas", max_steps=5, seed=1).steps == 5
    finally:
        rtas.set_progress("auto")


@pytest.mark.parametrize(
    "name, options",
    [
        ("known_sample", dict(data="gaussian", rows=400, sample=200, dim=10)),
        ("decoder", dict(model="logreg", steps=10, known=100)),
        ("pixel_permutation", dict(images=120, pool=2)),
        ("helper_linking", dict(runs=2, candidates=40)),
        ("linking", dict(rows=300, dim=8, outputs=8, held=50, columns=3, seeds=2)),
        ("float_share", dict(images=50, shares=[1, 10])),
        ("dp_reconstruction", dict(others=20, candidates=5, steps=3, trials=10, epsilons=[1, 8])),
    ],
)
def test_every_other_attack_equals_the_cli(cli, name, options):
    got = getattr(rtas.attack, name)(seed=1, **options)
    args = ["attack", name.replace("_", "-")]
    for key, value in options.items():
        args += ["--" + key.replace("_", "-"), ",".join(map(str, value)) if isinstance(value, list) else value]
    assert untimed(got.to_dict()) == untimed(cli(*args, "--seed", 1))
