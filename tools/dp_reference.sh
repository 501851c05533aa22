#!/usr/bin/env bash
# Writes tests/fixtures/dp_reference.json with Google's dp-accounting in its own virtual environment
# (tools/.venv-dp, from PyPI). CI uses the committed file and never runs this.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv-dp/bin/python ]; then
    python3 -m venv .venv-dp
    .venv-dp/bin/pip install -q 'dp-accounting==0.6.0'
fi
.venv-dp/bin/python dp_reference.py
