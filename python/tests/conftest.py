"""The CLI beside the package: results are compared with `rtas ... --json` of the same seed."""

import json
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def cli():
    """Runs the rtas binary (RTAS_BIN, else the checkout's target/release/rtas, which `cargo test --release`
    builds) and returns its JSON."""
    binary = os.environ.get("RTAS_BIN", str(ROOT / "target" / "release" / "rtas"))
    if not os.path.exists(binary):
        pytest.fail(f"the rtas binary is not at {binary}: run `cargo build --release` or set RTAS_BIN")

    def run(*args):
        out = subprocess.run([binary, *map(str, args), "--json"], capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    return run


# Keys whose values are measured on the running host (CPU time and what is modeled from it): equal runs differ.
TIMED = ("seconds", "compute", "modeled", "ratio", "per_label", "rates")


def untimed(value):
    """`value` without the measured keys (at any depth)."""
    if isinstance(value, dict):
        return {k: untimed(v) for k, v in value.items() if not any(t in k for t in TIMED)}
    if isinstance(value, list):
        return [untimed(v) for v in value]
    return value
