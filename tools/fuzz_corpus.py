#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/ from real files: a few bundled digits as IDX (raw and gzip),
the head of the example table as CSV, NPY arrays of several dtypes, frames as the TCP transport sends them,
and the bundled model files. Run from the repository root: python3 tools/fuzz_corpus.py
"""
import gzip
import os
import shutil
import struct

out = "fuzz/corpus"

# IDX: the first 3 bundled digits and their labels.
with gzip.open("data/mnist-10k/images-idx3-ubyte.gz") as f:
    raw = f.read()
n, rows, cols = struct.unpack(">III", raw[4:16])
small = raw[:4] + struct.pack(">III", 3, rows, cols) + raw[16:16 + 3 * rows * cols]
open(f"{out}/idx/three-digits.idx", "wb").write(small)
open(f"{out}/idx/three-digits.idx.gz", "wb").write(gzip.compress(small))
with gzip.open("data/mnist-10k/labels-idx1-ubyte.gz") as f:
    lab = f.read()
open(f"{out}/idx/labels.idx", "wb").write(lab[:4] + struct.pack(">I", 5) + lab[8:13])

# CSV: the example table's first rows (mode byte 1 = take the first column as the label).
head = "".join(open("data/tabular/loans.csv").readlines()[:8]).encode()
open(f"{out}/csv/loans-head.csv", "wb").write(b"\x00" + head)
open(f"{out}/csv/loans-head-label.csv", "wb").write(b"\x01" + head)
open(f"{out}/csv/quoted.csv", "wb").write(b"\x00" + b'"a b",c\n1,"2"\n-3e2,4.5\n')


def npy(descr, shape, payload, fortran=False):
    sh = "(%s)" % (", ".join(map(str, shape)) + ("," if len(shape) == 1 else ""))
    h = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, fortran, sh)
    h += " " * ((64 - (10 + len(h) + 1) % 64) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + payload


open(f"{out}/npy/f8-2x3.npy", "wb").write(npy("<f8", (2, 3), struct.pack("<6d", 0, 0.5, 1, 1.5, 2, 2.5)))
open(f"{out}/npy/f4-fortran.npy", "wb").write(npy("<f4", (2, 2), struct.pack("<4f", 1, 2, 3, 4), True))
open(f"{out}/npy/u1-labels.npy", "wb").write(npy("|u1", (4,), bytes([0, 1, 9, 3])))
open(f"{out}/npy/i8-big.npy", "wb").write(npy(">i8", (2,), struct.pack(">2q", -5, 7)))


def frame(stage, idx, op, opk, kind, phase, pkind, dims, layer, payload):
    hdr = struct.pack("<BIBIBBBB", stage, idx, op, opk, kind, phase, pkind, len(dims))
    hdr += b"".join(struct.pack("<Q", d) for d in dims) + struct.pack("<H", len(layer)) + layer
    return b"RTF1" + struct.pack("<HQ", len(hdr), len(payload)) + hdr + payload


seed = frame(0, 0, 1, 0, 0, 0, 2, [], b"", bytes(range(16)))
opening = frame(3, 7, 3, 0, 2, 1, 0, [2, 3], b"dense/fwd", struct.pack("<6Q", *range(6)))
reshare = frame(4, 0, 7, 1, 1, 1, 0, [4], b"sig1", struct.pack("<4Q", 1, 2, 3, 4))
floats = frame(3, 1, 4, 0, 4, 1, 1, [2], b"", struct.pack("<2d", 0.25, -1.0))
# The first byte of a frame input is the chunk size the target feeds the decoder with.
open(f"{out}/frame/setup-seed", "wb").write(b"\x07" + seed)
open(f"{out}/frame/a-step", "wb").write(b"\x01" + seed + opening + reshare + floats)
open(f"{out}/frame/big-chunks", "wb").write(b"\xff" + opening * 3)

for m in ["logreg", "cnn", "loans-logreg"]:
    shutil.copy(f"models/{m}.toml", f"{out}/model_spec/{m}.toml")
open(f"{out}/model_spec/lenet.toml", "w").write(
    "input = [1, 12, 12]\n"
    "[[layer]]\nkind = \"conv2d\"\nfilters = 2\nkernel = 3\npadding = 1\n"
    "[[layer]]\nkind = \"relu\"\n[[layer]]\nkind = \"avgpool\"\nsize = 2\n"
    "[[layer]]\nkind = \"conv2d\"\nfilters = 3\nkernel = [2, 3]\nstride = 2\n"
    "[[layer]]\nkind = \"sigmoid\"\n[[layer]]\nkind = \"flatten\"\n"
    "[[layer]]\nkind = \"dense\"\nunits = 4\n"
    "[loss]\nkind = \"softmax-cross-entropy\"\n")
# The ONNX fixtures (tools/make_onnx.py): two models that import and one refused operator; and PyTorch's
# smallest exports (tools/pytorch_exports.sh): shape arithmetic, padded and global pools, a dynamo export.
os.makedirs(f"{out}/onnx", exist_ok=True)
for m in ["small-cnn", "mlp-matmul", "tanh"]:
    shutil.copy(f"models/onnx/{m}.onnx", f"{out}/onnx/{m}.onnx")
for m in ["avgpool-pad-cnn.ts17", "gap-cnn.ts13", "gap-cnn.dynamo"]:
    shutil.copy(f"models/pytorch/{m}.onnx", f"{out}/onnx/{m}.onnx")
print("wrote the seed corpora under", out)
