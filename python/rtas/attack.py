"""Attacks (``rtas attack``): what a curious party reconstructs from what it saw, scored against the bounds.
Every option is the CLI's flag with dashes as underscores (``delta_relative=0.3`` is ``--delta-relative 0.3``);
``seed`` fixes the run.

The attacks that read a user's rows take NumPy arrays as ``data=`` in place of ``data_file=`` (one copy is
made for the engine): known_plaintext, known_sample and linking a 2-D array of rows (or ``(X, y)``, the labels
unused); decoder ``(X, y)``, cut 80/20 as ``--data-file`` is, or with ``test=(X_test, y_test)`` as given;
pixel_permutation images as an array of shape (images, side, side) or (images, side * side)."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ._core import Result, run, run_arrays
from ._errors import InvalidInput


def _matrix(x: Any, what: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2:
        raise InvalidInput(f"{what} must be 2-D (rows x features), got shape {a.shape}")
    return a


def _labels(y: Any, rows: int, what: str) -> np.ndarray:
    a = np.asarray(y, dtype=np.float64)
    if a.ndim != 1 or a.shape[0] != rows:
        raise InvalidInput(f"{what}: labels must be 1-D with one per row ({rows}), got shape {a.shape}")
    return a


def _table(data: Any, test: Any, labelled: bool) -> tuple:
    """``data`` (and ``test``) as the engine's arrays: ``(x,)``, ``(x, y)`` or ``(x, y, x_test, y_test)``."""
    if isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise InvalidInput("data must be an array of rows or a pair (X, y)")
        x = _matrix(data[0], "data")
        out: tuple = (x, _labels(data[1], x.shape[0], "data"))
    elif labelled:
        raise InvalidInput("this attack trains a model on your rows: give data=(X, y)")
    else:
        out = (_matrix(data, "data"),)
    if test is None:
        return out
    if not labelled:
        raise InvalidInput("test= goes with decoder only")
    if not (isinstance(test, (tuple, list)) and len(test) == 2):
        raise InvalidInput("test must be a pair (X, y) of arrays")
    xt = _matrix(test[0], "test")
    return out + (xt, _labels(test[1], xt.shape[0], "test"))


def _attack(name: str, seed: Optional[int], options: dict, data: Any = None, test: Any = None, labelled: bool = False) -> Result:
    if isinstance(data, str):
        # The CLI's --data (gaussian, correlated, mnist): generated rows or the digits, not arrays.
        options = dict(options, data=data)
        data = None
    if data is None:
        if test is not None:
            raise InvalidInput("test=(X, y) goes with data=(X, y)")
        return run(["attack", name], seed=seed, **options)
    return run_arrays(["attack", name], _table(data, test, labelled), seed=seed, **options)


def known_plaintext(*, data: Any = None, seed: Optional[int] = None, **options: Any) -> Result:
    """Y = X A with A secret; K known rows with their images; least squares recovers A. ``data``:
    your rows as an array, or the CLI's name (gaussian, correlated, mnist). Options: data_file, label, rows,
    dim, outputs, orthogonal, known (list), delta_relative."""
    return _attack("known-plaintext", seed, options, data)


def known_sample(*, data: Any = None, seed: Optional[int] = None, **options: Any) -> Result:
    """Y = X A, A orthogonal; a sample from the same distribution; covariance eigenvectors matched. ``data``:
    your rows as an array, or the CLI's name (gaussian, correlated, mnist). Options: data_file, label, rows,
    sample, dim, energy, delta_relative."""
    return _attack("known-sample", seed, options, data)


def decoder(*, data: Any = None, test: Any = None, seed: Optional[int] = None, **options: Any) -> Result:
    """RTAS-fast: the third party decodes the inputs from the first layer's outputs it saw. ``data=(X,
    y)``: your table (cut 80/20; the last fifth are the public rows of ``aux="public"``), or with ``test=(X_test,
    y_test)`` as given; ``model`` must take its columns. Options: model, steps, known, aux, nonlinear, lambda_
    (the ridge), delta_relative, data_file, label, standardize."""
    return _attack("decoder", seed, options, data, test, labelled=True)


def pixel_permutation(*, data: Any = None, seed: Optional[int] = None, **options: Any) -> Result:
    """A secret permutation of every image's pixels, undone from pixel correlations. ``data``: your images,
    shape (count, side, side) or (count, side * side), any scale; the ones after the first ``images`` are the
    attacker's public images. Options: images, images_file, crop, pool."""
    if data is not None:
        images = np.asarray(data, dtype=np.float64)
        if images.ndim == 3:
            images = images.reshape(images.shape[0], -1)
        data = images
    return _attack("pixel-permutation", seed, options, data)


def helper_view(*, seed: Optional[int] = None, **options: Any) -> Result:
    """RTAS: what the element-wise helper learns about batch labels from permuted pre-activations. Options:
    steps."""
    return _attack("helper-view", seed, options)


def helper_linking(*, seed: Optional[int] = None, **options: Any) -> Result:
    """RTAS: the dealer-helper undoes the permutation from its own triple seeds (the paper's helper against
    rtas's). Options: runs, candidates."""
    return _attack("helper-linking", seed, options)


def degree_matching(*, seed: Optional[int] = None, **options: Any) -> Result:
    """A user-item graph with permuted IDs; items re-identified by degree. Options: users, items, per_user,
    zipf, noise."""
    return _attack("degree-matching", seed, options)


def linking(*, data: Any = None, seed: Optional[int] = None, **options: Any) -> Result:
    """Shuffled, transformed rows linked to an attacker's partial columns (regression + Hungarian). ``data``:
    your rows as an array. Options: data_file, label, rows, dim, outputs, held, columns, seeds."""
    return _attack("linking", seed, options, data)


def float_share(*, seed: Optional[int] = None, **options: Any) -> Result:
    """The paper's float sharing: one share (or several, averaged) of x - r with Gaussian r. Options: images,
    sigma, shares (list), delta_relative, recorded_epochs, recorded_images."""
    return _attack("float-share", seed, options)


def dp_reconstruction(*, seed: Optional[int] = None, **options: Any) -> Result:
    """DP-SGD: the informed adversary names the one training record it was not told, beside the bound of the
    run's epsilon. Options: model, others, candidates, sample_rate, steps, epsilons (list), dp_delta, clip, lr,
    trials."""
    return _attack("dp-reconstruction", seed, options)
