"""rtas from Python: the engine of the ``rtas`` command (bounds, protocols, attacks, the audit) in this
process, with NumPy in and out.

Every function runs the same code as its CLI command and returns a read-only :class:`Result` whose
``to_dict()`` is the command's ``--json`` object; ``str(result)`` is the table the CLI prints. Bad input
raises a ``ValueError`` (:class:`InvalidInput`), everything else an :class:`RtasError`; Ctrl-C stops a long
run (``KeyboardInterrupt``). The GIL is released while the engine works; long runs draw a tqdm bar when tqdm
is installed and stderr is a terminal (:func:`set_progress`).

>>> import rtas
>>> print(rtas.bound.linear(784, 100, relative=0.95))
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from typing import Any, Optional, Union

import numpy as np

from . import attack, bound, estimate
from ._core import Result, run, run_arrays, set_progress
from ._engine import __version__
from ._errors import DataError, InvalidInput, NumericalError, ProtocolError, RtasError

__all__ = [
    "DataError",
    "InvalidInput",
    "NumericalError",
    "ProtocolError",
    "Result",
    "RtasError",
    "attack",
    "audit",
    "bound",
    "estimate",
    "logreg_toml",
    "plan",
    "report",
    "set_progress",
    "simulate",
    "__version__",
]

Model = Union[str, "os.PathLike[str]", Any]
"""A model: "logreg", "cnn", a path to a TOML or ONNX model file, or a torch.nn.Module."""


_LOGREG = """input = [{width}]

[[layer]]
kind = "dense"
units = 1

[[layer]]
kind = "sigmoid"

[loss]
kind = "mse"
target = "value"
"""


def logreg_toml(width: int) -> str:
    """The model file (TOML) of the paper's logistic regression on ``width`` features: one dense unit, a
    sigmoid, squared error on a 0/1 label (what ``simulate("logreg", data=(X, y))`` trains when X is not
    784 wide). Write it to a file to pass it as ``model=`` to an attack."""
    if not isinstance(width, int) or width < 1:
        raise InvalidInput(f"width must be a positive integer, got {width!r}")
    return _LOGREG.format(width=width)


def _model(model: Model, width: Optional[int], keep: list) -> str:
    """The ``--model`` value: names and paths as they are; a torch module exported to ONNX in a temporary
    file (kept alive in ``keep`` for the call)."""
    if model == "logreg" and width not in (None, 784):
        # The paper's logistic regression on a table of `width` features (as models/loans-logreg.toml is for
        # the bundled loans): one dense unit and a sigmoid, squared error on the 0/1 label.
        tmp = tempfile.TemporaryDirectory(prefix="rtas-")
        keep.append(tmp)
        path = os.path.join(tmp.name, f"logreg-{width}.toml")
        with open(path, "w") as f:
            f.write(logreg_toml(width))
        return path
    if isinstance(model, (str, os.PathLike)):
        return os.fspath(model)
    try:
        import torch
    except ImportError:
        raise InvalidInput(f"model must be 'logreg', 'cnn' or a path to a model file, got {type(model).__name__}") from None
    if not isinstance(model, torch.nn.Module):
        raise InvalidInput(f"model must be 'logreg', 'cnn', a path or a torch.nn.Module, got {type(model).__name__}")
    if width is None:
        raise InvalidInput("a torch model needs the input width: give data=(X, y) or input_width=")
    tmp = tempfile.TemporaryDirectory(prefix="rtas-")
    keep.append(tmp)
    path = os.path.join(tmp.name, "model.onnx")
    model.eval()
    torch.onnx.export(model, torch.zeros(1, width), path, input_names=["x"], output_names=["y"], dynamo=False)
    return path


def _arrays(data: tuple, test: Optional[tuple]) -> tuple:
    def pair(p: tuple, what: str) -> tuple:
        if not (isinstance(p, (tuple, list)) and len(p) == 2):
            raise InvalidInput(f"{what} must be a pair (X, y) of arrays")
        x = np.asarray(p[0], dtype=np.float64)
        y = np.asarray(p[1], dtype=np.float64)
        if x.ndim != 2 or y.ndim != 1:
            raise InvalidInput(f"{what}: X must be 2-D (rows x features) and y 1-D, got {x.shape} and {y.shape}")
        return x, y

    x, y = pair(data, "data")
    if test is None:
        return (x, y)
    xt, yt = pair(test, "test")
    return (x, y, xt, yt)


def simulate(
    model: Model = "logreg",
    protocol: str = "rtas",
    *,
    data: Optional[tuple] = None,
    test: Optional[tuple] = None,
    epochs: Optional[int] = None,
    batch: Optional[int] = None,
    lr: Optional[float] = None,
    infer_batch: Optional[int] = None,
    max_steps: Optional[int] = None,
    network: Union[str, Sequence[str], None] = None,
    bandwidth: Optional[str] = None,
    rtt: Optional[str] = None,
    frac_bits: Optional[int] = None,
    sharing: Optional[str] = None,
    reuse_masks: bool = False,
    fss_gate: Optional[str] = None,
    value_bits: Optional[int] = None,
    standardize: bool = False,
    noise_multiplier: Optional[float] = None,
    target_epsilon: Optional[float] = None,
    clip: Optional[float] = None,
    dp_delta: Optional[float] = None,
    dp_sampling: Optional[str] = None,
    train_size: Optional[int] = None,
    test_size: Optional[int] = None,
    input_width: Optional[int] = None,
    views: bool = False,
    seed: Optional[int] = None,
) -> Result:
    """Trains and tests ``model`` under ``protocol`` (plain, rtas, rtas-fast, mpc, dp-sgd), as ``rtas
    simulate``: accuracy beside plaintext, the ledger's bytes and rounds per step, modeled time per network,
    the loss curve (``result.loss_curve``, a NumPy array).

    ``model="logreg"`` with ``data`` of another width than 784 is the same logistic regression on your
    features (one dense unit, a sigmoid, squared error on a 0/1 label: models/loans-logreg.toml's shape).
    ``data=None`` trains on the bundled MNIST digits; ``data=(X, y)`` on your arrays (rows x features, one
    class label per row), cut 80/20 into train and test as ``--data-file`` is, or with ``test=(X_test,
    y_test)`` as given. One copy of the arrays is made for the engine.

    ``fss_gate`` picks mpc's FSS gate: ``"dcf"`` (one online round, the default) or ``"dpf"`` (two rounds,
    less than half the keys). ``value_bits=K`` states that every value mpc's gates compare is a K-bit signed
    fixed-point number (smaller keys, less work); ``result.comparison_range`` counts the values that fell
    outside, whose results are wrong.

    ``views=True`` keeps what every role saw (``result.views``: the messages it received, its inputs, its
    seeds), the material every attack of ``rtas.attack`` reads; a secure protocol only."""
    keep: list = []
    arrays = None if data is None else _arrays(data, test)
    width = None if arrays is None else arrays[0].shape[1]
    options = dict(
        model=_model(model, width or input_width, keep),
        protocol=protocol,
        epochs=epochs,
        batch=batch,
        lr=lr,
        infer_batch=infer_batch,
        max_steps=max_steps,
        network=network,
        bandwidth=bandwidth,
        rtt=rtt,
        frac_bits=frac_bits,
        sharing=sharing,
        reuse_masks=reuse_masks,
        fss_gate=fss_gate,
        value_bits=value_bits,
        standardize=standardize,
        noise_multiplier=noise_multiplier,
        target_epsilon=target_epsilon,
        clip=clip,
        dp_delta=dp_delta,
        dp_sampling=dp_sampling,
        train_size=train_size,
        test_size=test_size,
        seed=seed,
    )
    if data is None:
        if test is not None:
            raise InvalidInput("test=(X, y) goes with data=(X, y)")
        return run(["simulate"], views=views, **options)
    return run_arrays(["simulate"], arrays, views=views, **options)


def plan(
    model: Model = "cnn",
    protocols: Union[str, Sequence[str]] = ("rtas", "rtas-fast", "mpc"),
    *,
    batch: Optional[int] = None,
    infer_batch: Optional[int] = None,
    rows: Optional[int] = None,
    epochs: Optional[int] = None,
    network: Union[str, Sequence[str], None] = None,
    bandwidth: Optional[str] = None,
    rtt: Optional[str] = None,
    frac_bits: Optional[int] = None,
    fss_gate: Optional[str] = None,
    value_bits: Optional[int] = None,
    verify: bool = False,
    input_width: Optional[int] = None,
) -> Result:
    """Bytes, rounds and modeled time of ``model`` under each protocol per step, epoch and in total,
    without data (``rtas plan``); ``result.to_pandas()`` has one row per protocol. ``fss_gate``: mpc's FSS
    gate, ``"dcf"`` (one round, the default) or ``"dpf"`` (two rounds, smaller keys); ``value_bits``: the
    stated width of the values its gates compare (see :func:`simulate`)."""
    keep: list = []
    if isinstance(protocols, str):
        protocols = [protocols]
    return run(
        ["plan"],
        table_key="protocols",
        model=_model(model, input_width, keep),
        protocols=list(protocols),
        batch=batch,
        infer_batch=infer_batch,
        rows=rows,
        epochs=epochs,
        network=network,
        bandwidth=bandwidth,
        rtt=rtt,
        frac_bits=frac_bits,
        fss_gate=fss_gate,
        value_bits=value_bits,
        verify=verify,
    )


def audit(
    quick: bool = True,
    *,
    seed: Optional[int] = None,
    seeds: Optional[Sequence[int]] = None,
    claims: Optional[Sequence[str]] = None,
) -> Result:
    """The claims audit (``rtas audit``): each claim of the paper in its setting, every attack with its
    knowledge and interval, a verdict by rule; ``result.to_pandas()`` has one row per claim, and
    ``result.cost`` the cost table (RTAS, RTAS-fast and mpc). ``quick=True`` (the default here) takes about
    half a minute on 2 cores; the full audit about a minute. ``seeds``: judge every row across these seeds."""
    return run(["audit"], table_key="claims", quick=quick, seed=seed, seeds=seeds, claims=claims)


def report(out: Union[str, "os.PathLike[str]"] = "reports", *, quick: bool = False, seed: Optional[int] = None) -> Result:
    """Every result as a chart (PNG and SVG) plus a Markdown report in ``out`` (``rtas report``)."""
    return run(["report"], out=out, quick=quick, seed=seed)
