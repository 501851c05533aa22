"""Bounds and estimates: every function against the CLI's --json, and the values' types."""

import numpy as np
import pytest

import rtas


def test_linear_bound_prints_and_equals_the_cli(cli):
    r = rtas.bound.linear(784, 100, relative=0.95)
    assert r.to_dict() == cli("bound", "linear", "--dim", 784, "--outputs", 100, "--relative", 0.95)
    assert r.unknown_dims == 684 and abs(r.paper.epsilon - 0.0253334) < 1e-6
    assert "Thm 3.3" in str(r) and "2.533e-2" in str(r)
    assert rtas.bound.linear(20, 5, delta=1.5).to_dict() == cli("bound", "linear", "--dim", 20, "--outputs", 5, "--delta", 1.5)


def test_permutation_bound_from_a_length_values_or_counts(cli):
    assert rtas.bound.permutation(10).to_dict() == cli("bound", "permutation", "--len", 10)
    assert rtas.bound.permutation(10, known=3).to_dict() == cli("bound", "permutation", "--len", 10, "--known", 3)
    by_values = rtas.bound.permutation([0, 0, 0, 1, 2, 2])
    assert by_values.to_dict() == cli("bound", "permutation", "--len", 6, "--counts", "3,1,2")
    assert rtas.bound.permutation(counts=[3, 1, 2]) == by_values


def test_noise_linking_and_dp_bounds(cli):
    assert rtas.bound.noise(0.5, 0.1, dim=4).to_dict() == cli("bound", "noise", "--sigma", 0.5, "--delta", 0.1, "--dim", 4)
    assert rtas.bound.linking(1000, 10).to_dict() == cli("bound", "linking", "--rows", 1000, "--known", 10)
    got = rtas.bound.dp(1.1, 1000, sample_rate=0.01, kappa=0.1)
    assert got.to_dict() == cli("bound", "dp", "--noise-multiplier", 1.1, "--steps", 1000, "--sample-rate", 0.01, "--kappa", 0.1)


def test_estimates_equal_the_cli_for_the_same_seed(cli):
    lin = rtas.estimate.linear(20, 5, relative=0.5, trials=2000, seed=7)
    assert lin.to_dict() == cli("estimate", "linear", "--dim", 20, "--outputs", 5, "--relative", 0.5, "--trials", 2000, "--seed", 7)
    assert lin.ci_low <= lin.epsilon <= lin.ci_high
    perm = rtas.estimate.permutation(5, trials=3000, seed=2)
    assert perm.to_dict() == cli("estimate", "permutation", "--len", 5, "--trials", 3000, "--seed", 2)
    noise = rtas.estimate.noise(0.5, 0.3, dim=3, trials=2000, seed=3)
    assert noise.to_dict() == cli("estimate", "noise", "--sigma", 0.5, "--delta", 0.3, "--dim", 3, "--trials", 2000, "--seed", 3)
    assert rtas.estimate.linear(20, 5, relative=0.5, trials=2000, seed=8) != lin


def test_results_are_read_only_and_numbers_come_out_as_arrays():
    r = rtas.bound.linear(784, 100, relative=0.95)
    with pytest.raises(AttributeError):
        r.dim = 3
    with pytest.raises(AttributeError, match="not in this result"):
        r.no_such_key
    d = r.to_dict()
    d["dim"] = 1
    assert r.dim == 784 and "dim" in r and r["dim"] == 784
    assert "paper" in dir(r)


def test_bad_input_is_a_value_error_with_the_cli_line():
    with pytest.raises(ValueError, match="--dim must be at least 1"):
        rtas.bound.linear(0, 100, relative=0.95)
    with pytest.raises(rtas.InvalidInput, match="cannot be used with"):
        rtas.bound.linear(784, 100, relative=0.95, delta=3.0)
    with pytest.raises(ValueError):
        rtas.bound.noise(float("nan"), 0.1)
    with pytest.raises(rtas.RtasError):
        rtas.estimate.linear(20, 5, relative=0.5, trials=0, seed=1)
    # A missing file is a DataError (an RtasError and a ValueError), its path in the message.
    with pytest.raises(rtas.DataError, match="no-such.idx"):
        rtas.bound.permutation(idx="/no-such.idx")
    assert np.isfinite(rtas.bound.linear(10, 2, relative=0.5).paper.epsilon)
