"""Monte Carlo estimates of epsilon by the optimal attacker, with 95% Clopper-Pearson intervals
(``rtas estimate``). Same ``seed``, same numbers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

from ._core import Result, run


def linear(
    dim: int,
    outputs: int,
    *,
    delta: Optional[float] = None,
    relative: Optional[float] = None,
    trials: Optional[int] = None,
    seed: Optional[int] = None,
) -> Result:
    """Gaussian linear map; the attacker knows A and outputs the pseudo-inverse solution."""
    return run(["estimate", "linear"], dim=dim, outputs=outputs, delta=delta, relative=relative, trials=trials, seed=seed)


def permutation(
    length: Optional[int] = None,
    *,
    counts: Optional[Sequence[int]] = None,
    known: Optional[int] = None,
    trials: Optional[int] = None,
    seed: Optional[int] = None,
) -> Result:
    """Random permutation; the attacker outputs a random arrangement of what it saw."""
    return run(["estimate", "permutation"], len=length, counts=counts, known=known, trials=trials, seed=seed)


def noise(
    sigma: float,
    delta: float,
    *,
    dim: Optional[int] = None,
    trials: Optional[int] = None,
    seed: Optional[int] = None,
) -> Result:
    """Additive Gaussian noise; the paper's attacker and the posterior-mean attacker on the same draws."""
    return run(["estimate", "noise"], sigma=sigma, delta=delta, dim=dim, trials=trials, seed=seed)
