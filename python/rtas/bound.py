"""Closed-form reconstructive-privacy bounds (``rtas bound``): exact, in log10 where they fall below f64."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional, Union

from ._core import Result, run


def linear(dim: int, outputs: int, *, delta: Optional[float] = None, relative: Optional[float] = None) -> Result:
    """Gaussian linear map x -> A x (Theorem 3.3): the paper's bound and the tight one for an attacker who
    knows A. Give the error allowed as ``delta`` (Euclidean) or ``relative`` (delta = relative * sqrt(dim)).

    >>> rtas.bound.linear(784, 100, relative=0.95).paper.epsilon   # 0.0253...
    """
    return run(["bound", "linear"], dim=dim, outputs=outputs, delta=delta, relative=relative)


def permutation(
    values: Union[int, Sequence[int], None] = None,
    *,
    counts: Optional[Sequence[int]] = None,
    known: int = 0,
    idx: Optional[str] = None,
    index: Optional[int] = None,
) -> Result:
    """A random permutation of a vector (Theorem 3.4): ``values`` is its length (all values distinct) or the
    values themselves (their multiplicities are counted), or give ``counts`` (multiplicities) directly, or an
    image of an IDX file (``idx``, ``index``). ``known``: positions whose values the attacker knows."""
    length = None
    if isinstance(values, int):
        length = values
    elif values is not None:
        seen: dict = {}
        for v in list(values):
            seen[v] = seen.get(v, 0) + 1
        if counts is not None:
            raise ValueError("give the values or their counts, not both")
        counts = list(seen.values())
    if counts is not None and length is None:
        length = sum(counts)
    return run(["bound", "permutation"], len=length, counts=counts, known=known or None, idx=idx, index=index)


def noise(sigma: float, delta: float, *, dim: int = 1) -> Result:
    """Additive Gaussian noise x + e, e ~ N(0, sigma^2 I), against reconstruction within ``delta``."""
    return run(["bound", "noise"], sigma=sigma, delta=delta, dim=dim)


def linking(rows: int, known: int) -> Result:
    """Linking (Section 3.3.1): the paper's count C(rows, known) * known! of row mappings."""
    return run(["bound", "linking"], rows=rows, known=known)


def dp(
    noise_multiplier: float,
    steps: int,
    *,
    sample_rate: float = 1.0,
    dp_delta: float = 1e-5,
    kappa: Optional[float] = None,
    gaussian_dim: Optional[int] = None,
    radius: Optional[float] = None,
) -> Result:
    """DP-SGD (Poisson-sampled Gaussian): epsilon at ``dp_delta`` and the reconstruction bound against a
    prior of baseline ``kappa`` (or the paper's Gaussian data: ``gaussian_dim`` and ``radius``)."""
    return run(
        ["bound", "dp"],
        noise_multiplier=noise_multiplier,
        steps=steps,
        sample_rate=sample_rate,
        dp_delta=dp_delta,
        kappa=kappa,
        gaussian_dim=gaussian_dim,
        radius=radius,
    )
