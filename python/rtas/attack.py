"""Attacks (``rtas attack``): what a curious party reconstructs from what it saw, scored against the bounds.
Every option is the CLI's flag with dashes as underscores (``delta_relative=0.3`` is ``--delta-relative 0.3``);
``seed`` fixes the run."""

from __future__ import annotations

from typing import Any, Optional

from ._core import Result, run


def _attack(name: str, seed: Optional[int], options: dict) -> Result:
    return run(["attack", name], seed=seed, **options)


def known_plaintext(*, seed: Optional[int] = None, **options: Any) -> Result:
    """Y = X A with A secret; K known rows with their images; least squares recovers A. Options: data,
    data_file, label, rows, dim, outputs, orthogonal, known (list), delta_relative."""
    return _attack("known-plaintext", seed, options)


def known_sample(*, seed: Optional[int] = None, **options: Any) -> Result:
    """Y = X A, A orthogonal; a sample from the same distribution; covariance eigenvectors matched. Options:
    data, data_file, label, rows, sample, dim, energy, delta_relative."""
    return _attack("known-sample", seed, options)


def decoder(*, seed: Optional[int] = None, **options: Any) -> Result:
    """RTAS-fast: the third party decodes the inputs from the first layer's outputs it saw. Options: model,
    steps, known, aux, nonlinear, lambda_ (the ridge), delta_relative, data_file, label, standardize."""
    return _attack("decoder", seed, options)


def pixel_permutation(*, seed: Optional[int] = None, **options: Any) -> Result:
    """A secret permutation of every image's pixels, undone from pixel correlations. Options: images,
    images_file, crop, pool."""
    return _attack("pixel-permutation", seed, options)


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


def linking(*, seed: Optional[int] = None, **options: Any) -> Result:
    """Shuffled, transformed rows linked to an attacker's partial columns (regression + Hungarian). Options:
    data_file, label, rows, dim, outputs, held, columns, seeds."""
    return _attack("linking", seed, options)


def float_share(*, seed: Optional[int] = None, **options: Any) -> Result:
    """The paper's float sharing: one share (or several, averaged) of x - r with Gaussian r. Options: images,
    sigma, shares (list), delta_relative, recorded_epochs, recorded_images."""
    return _attack("float-share", seed, options)


def dp_reconstruction(*, seed: Optional[int] = None, **options: Any) -> Result:
    """DP-SGD: the informed adversary names the one training record it was not told, beside the bound of the
    run's epsilon. Options: model, others, candidates, sample_rate, steps, epsilons (list), dp_delta, clip, lr,
    trials."""
    return _attack("dp-reconstruction", seed, options)
