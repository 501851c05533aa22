#!/usr/bin/env bash
# Writes models/pytorch/*.onnx and models/pytorch/expected.json: small MNIST models written the usual ways in
# PyTorch, trained briefly on the bundled digits and exported by torch.onnx.export, with PyTorch's own test
# accuracy and outputs. torch comes from PyPI into its own virtual environment (tools/.venv-torch, about
# 4 GB with the CUDA wheels PyPI's torch depends on); CI uses the committed files and never runs this.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x .venv-torch/bin/python ]; then
    python3 -m venv .venv-torch
    .venv-torch/bin/pip install -q 'torch==2.15.0' 'numpy==2.4.6' 'onnx==1.23.2' 'onnxscript==0.7.2'
fi
.venv-torch/bin/python pytorch_exports.py "$@"
