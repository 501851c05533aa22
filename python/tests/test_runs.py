"""Protocol runs, attacks, plan, audit and report against the CLI; NumPy round trips; interruption."""

import _thread
import os
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
    # A stated value width: the CLI's result, its range counted, smaller keys; refused outside mpc.
    v = rtas.simulate("logreg", "mpc", max_steps=2, fss_gate="dpf", value_bits=30, seed=3)
    want = cli("simulate", "--model", "logreg", "--protocol", "mpc", "--max-steps", 2, "--fss-gate", "dpf",
               "--value-bits", 30, "--seed", 3)
    assert untimed(v.to_dict()) == untimed(want)
    assert v.value_bits == 30 and v.comparison_range.outside == 0 and v.comparison_range.value_bits == 30
    assert v.train_step.total_bytes < r.train_step.total_bytes
    pv = rtas.plan("cnn", "mpc", value_bits=30)
    assert pv.value_bits == 30
    with pytest.raises(ValueError, match="applies to --protocol mpc"):
        rtas.simulate("logreg", "rtas", max_steps=1, value_bits=30)


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


def _idx_images(path, images):
    """`images` (count x side x side, 0-255) as an IDX file of unsigned bytes."""
    import struct

    n, h, w = images.shape
    with open(path, "wb") as f:
        f.write(struct.pack(">HBBIII", 0, 0x08, 3, n, h, w))
        f.write(images.astype(np.uint8).tobytes())


def test_attacks_take_numpy_arrays_as_the_cli_takes_the_same_files(cli, tmp_path):
    x, y = _table(300, 8, seed=4)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    # Rows only: the labels, if given, are not read.
    for name, options in [
        ("known_plaintext", dict(rows=200, outputs=8, known=[10, 40])),
        ("known_sample", dict(rows=150, sample=100)),
        ("linking", dict(rows=200, outputs=8, held=40, columns=3, seeds=2)),
    ]:
        args = ["attack", name.replace("_", "-"), "--data-file", tmp_path / "x.npy", "--seed", 2]
        for key, value in options.items():
            args += ["--" + key.replace("_", "-"), ",".join(map(str, value)) if isinstance(value, list) else value]
        want = untimed(cli(*args))
        assert untimed(getattr(rtas.attack, name)(data=x, seed=2, **options).to_dict()) == want, name
        assert untimed(getattr(rtas.attack, name)(data=(x, y), seed=2, **options).to_dict()) == want, name
    # The decoder trains RTAS-fast on the table first: (X, y), cut 80/20 as --data-file is.
    (tmp_path / "logreg.toml").write_text(rtas.logreg_toml(8))
    options = dict(model=tmp_path / "logreg.toml", steps=5, known=60, standardize=True)
    got = rtas.attack.decoder(data=(x, y), seed=3, **options)
    want = cli("attack", "decoder", "--model", tmp_path / "logreg.toml", "--steps", 5, "--known", 60, "--standardize",
               "--data-file", tmp_path / "x.npy", "--label", tmp_path / "y.npy", "--seed", 3)
    assert untimed(got.to_dict()) == untimed(want)
    apart = rtas.attack.decoder(data=(x[:240], y[:240]), test=(x[240:], y[240:]), seed=3, **options)
    assert untimed(apart.to_dict()) == untimed(want)
    # Images: (count, side, side) arrays read as the IDX file of the same pixels (scaled by 1/256 there; the
    # attack reads correlations, so any scale gives the same layout).
    import gzip

    from conftest import ROOT

    with gzip.open(ROOT / "data" / "mnist-10k" / "images-idx3-ubyte.gz") as f:
        digits = np.frombuffer(f.read()[16:], dtype=np.uint8).reshape(-1, 28, 28)[:1300]
    digits = digits[np.random.default_rng(1).permutation(len(digits))]
    _idx_images(tmp_path / "images.idx", digits)
    want = cli("attack", "pixel-permutation", "--images-file", tmp_path / "images.idx", "--images", 200, "--crop", 24,
               "--pool", 3, "--seed", 5)
    for images in [digits / 256.0, (digits / 256.0).reshape(len(digits), -1)]:
        got = rtas.attack.pixel_permutation(data=images, images=200, crop=24, pool=3, seed=5)
        assert untimed(got.to_dict()) == untimed(want)


def test_attack_arrays_that_do_not_fit_are_value_errors():
    x, y = _table(100, 4)
    with pytest.raises(ValueError, match=r"give data=\(X, y\)"):
        rtas.attack.decoder(data=x, model="logreg")
    with pytest.raises(ValueError, match="2-D"):
        rtas.attack.known_plaintext(data=x[:, 0])
    with pytest.raises(ValueError, match="one per row"):
        rtas.attack.linking(data=(x, y[:50]))
    with pytest.raises(ValueError, match="not both"):
        rtas.attack.linking(data=x, data_file="x.npy")
    with pytest.raises(ValueError, match="square images"):
        rtas.attack.pixel_permutation(data=np.zeros((300, 10)), images=20)
    with pytest.raises(ValueError, match="NaN|finite|not a number"):
        rtas.attack.known_plaintext(data=np.full((50, 4), np.nan), rows=40, outputs=4, known=[5])


def test_ctrl_c_stops_an_attack_and_the_next_run_works():
    # The pixel-permutation search on full 28x28 digits takes about 10 s here; Ctrl-C must stop it in seconds.
    timer = threading.Timer(1.0, _thread.interrupt_main)
    timer.start()
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        rtas.attack.pixel_permutation(images=300, seed=1)
    assert time.monotonic() - start < 6
    timer.cancel()
    assert rtas.attack.degree_matching(users=50, items=20, per_user=5, seed=1).results


def test_the_notebook_runs_cell_by_cell(monkeypatch):
    # Its code cells in order in one namespace, from examples/ as Jupyter would start it (no Jupyter needed).
    import json

    pytest.importorskip("pandas")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from conftest import ROOT

    nb = json.loads((ROOT / "examples" / "compare_protocols.ipynb").read_text())
    monkeypatch.chdir(ROOT / "examples")
    scope: dict = {}
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell["outputs"], "the notebook is committed without outputs"
            exec(compile("".join(cell["source"]), "compare_protocols.ipynb", "exec"), scope)
    assert list(scope["summary"].index) == ["rtas", "rtas-fast", "mpc", "dp-sgd"]
    assert all(0.5 < a <= 1 for a in scope["summary"]["accuracy"])
    assert 0 <= scope["attack"].epsilon <= 1 and scope["attack"].known == 200


def _loans():
    import csv

    from conftest import ROOT

    with open(ROOT / "data" / "tabular" / "loans.csv") as f:
        rows = list(csv.DictReader(f))
    y = np.array([float(r.pop("default")) for r in rows])
    return np.array([[float(v) for v in r.values()] for r in rows]), y


def test_a_torch_module_is_exported_to_onnx_inside_the_call(monkeypatch, tmp_path):
    # CI's venv has no torch (a 700 MB wheel): a stand-in module whose onnx.export writes the committed export
    # of the same MLP checks the glue (the type test, eval(), the input width, the temporary file, its
    # removal); with torch installed, the real test below runs too.
    import shutil
    import sys
    import types

    from conftest import ROOT

    exported = ROOT / "models" / "onnx" / "mlp-matmul.onnx"
    calls = []

    class Module:
        def eval(self):
            calls.append("eval")
            return self

    def export(model, example, path, **kw):
        calls.append(("export", example, kw["dynamo"]))
        shutil.copy(exported, path)

    fake = types.ModuleType("torch")
    fake.nn = types.SimpleNamespace(Module=Module)
    fake.zeros = lambda *shape: ("zeros", shape)
    fake.onnx = types.SimpleNamespace(export=export)
    monkeypatch.setitem(sys.modules, "torch", fake)
    x, y = _loans()
    got = rtas.simulate(Module(), "plain", data=(x, y), standardize=True, seed=2)
    want = rtas.simulate(exported, "plain", data=(x, y), standardize=True, seed=2)
    got, want = untimed(got.to_dict()), untimed(want.to_dict())
    path = got.pop("model")
    assert path.endswith("model.onnx") and not os.path.exists(path), "the temporary export is removed"
    want.pop("model")
    assert got == want
    assert calls == ["eval", ("export", ("zeros", (1, 12)), False)]
    with pytest.raises(ValueError, match="input width"):
        rtas.simulate(Module(), "plain")
    with pytest.raises(ValueError, match="torch.nn.Module"):
        rtas.simulate(object(), "plain", data=(x, y))


def test_a_real_torch_module_trains_as_its_export():
    torch = pytest.importorskip("torch")
    x, y = _loans()
    net = torch.nn.Sequential(torch.nn.Linear(12, 5), torch.nn.ReLU(), torch.nn.Linear(5, 1), torch.nn.Sigmoid())
    r = rtas.simulate(net, "rtas", data=(x, y), standardize=True, max_steps=20, seed=1)
    assert r.steps == 20 and 0 <= r.accuracy <= 1
