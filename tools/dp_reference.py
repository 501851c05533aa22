#!/usr/bin/env python3
"""Reference epsilons for DP-SGD's accountants (issue 24), computed once with Google's dp-accounting and
committed as tests/fixtures/dp_reference.json; CI reads the file and never runs this.

For each (sampling rate q, noise multiplier sigma, steps T, delta): epsilon from the privacy loss distribution
accountant (Poisson-subsampled Gaussian, composed T times; dp-accounting's PLDAccountant at its default
discretization) and from the RDP accountant (Mironov, Talwar and Zhang 2019; dp-accounting's RdpAccountant
with its default orders). q = 1 rows are the unsampled Gaussian mechanism, whose exact epsilon follows from
mu-GDP with mu = sqrt(T) / sigma (Balle and Wang 2018): it is written beside them, computed here with scipy-free
standard-library math (bisection on delta(eps) = Phi(-eps/mu + mu/2) - e^eps Phi(-eps/mu - mu/2)).

Run: tools/dp_reference.sh   (makes tools/.venv-dp, installs dp-accounting from PyPI, writes the fixture)
"""

import importlib.metadata
import json
import math
import os

import dp_accounting
from dp_accounting.pld import pld_privacy_accountant
from dp_accounting.rdp import rdp_privacy_accountant

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "dp_reference.json")

GRID = [
    # (q, sigma, steps, delta)
    (1.0, 1.0, 1, 1e-5),
    (1.0, 2.0, 10, 1e-5),
    (1.0, 5.0, 100, 1e-6),
    (0.01, 1.1, 1000, 1e-5),
    (0.01, 4.0, 10000, 1e-5),
    (256 / 60000, 1.1, 14062, 1e-5),
    (32 / 8000, 1.0, 2500, 1e-5),
    (32 / 8000, 0.7, 250, 1e-5),
    (0.05, 2.0, 500, 1e-6),
    (0.1, 0.8, 100, 1e-5),
]


def phi(x):
    return 0.5 * math.erfc(-x / math.sqrt(2))


def gaussian_epsilon(mu, delta):
    """The exact epsilon of mu-GDP at delta (the unsampled Gaussian mechanism)."""

    def d(eps):
        return phi(-eps / mu + mu / 2) - math.exp(eps) * phi(-eps / mu - mu / 2)

    lo, hi = 0.0, 1.0
    while d(hi) > delta:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if d(mid) > delta:
            lo = mid
        else:
            hi = mid
    return hi


def event(q, sigma, steps):
    g = dp_accounting.GaussianDpEvent(sigma)
    e = g if q >= 1.0 else dp_accounting.PoissonSampledDpEvent(q, g)
    return dp_accounting.SelfComposedDpEvent(e, steps)


def main():
    rows = []
    for q, sigma, steps, delta in GRID:
        pld = pld_privacy_accountant.PLDAccountant()
        pld.compose(event(q, sigma, steps))
        rdp = rdp_privacy_accountant.RdpAccountant()
        rdp.compose(event(q, sigma, steps))
        row = {
            "q": q,
            "sigma": sigma,
            "steps": steps,
            "delta": delta,
            "epsilon_pld": pld.get_epsilon(delta),
            "epsilon_rdp": rdp.get_epsilon(delta),
        }
        if q >= 1.0:
            row["epsilon_exact"] = gaussian_epsilon(math.sqrt(steps) / sigma, delta)
        rows.append(row)
        print(row)
    meta = {"tool": "dp-accounting " + importlib.metadata.version("dp-accounting"), "rows": rows}
    with open(OUT, "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
