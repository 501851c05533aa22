#!/usr/bin/env python3
"""Writes the ONNX test fixtures under models/onnx/ (deterministic; standard library only).

ONNX files are protocol buffers; this script encodes the few messages a model needs (ModelProto, GraphProto,
NodeProto, AttributeProto, TensorProto, ValueInfoProto) by hand, with the operators and attribute
conventions PyTorch's exporter uses (Gemm with transB = 1 for nn.Linear, Conv with pads/strides/kernel_shape,
Flatten with axis = 1, MatMul + Add for a bias added by hand, weights as raw little-endian float32).

- small-cnn.onnx: input [N, 1, 8, 8]; Conv 2 filters 3x3 stride 1 pad 1, Relu, AveragePool 2x2 stride 2,
  Flatten, Gemm 32 -> 4 (transB = 1), Sigmoid.
- mlp-matmul.onnx: input [N, 12] (the columns of data/tabular/loans.csv); MatMul 12 -> 5, Add bias, Relu,
  Gemm 5 -> 1 (transB = 0), Sigmoid.
- tanh.onnx: a Conv followed by Tanh (an operator rtas refuses, by name and node).
- *.expected.json: two inputs and the outputs this script computes for them in plain Python (double
  precision from the float32 weights), which rtas's import must reproduce.

Run: python3 tools/make_onnx.py
"""

import json
import math
import os
import random
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "models", "onnx")


def varint(n):
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def key(field, wire):
    return varint(field << 3 | wire)


def ld(field, payload):
    return key(field, 2) + varint(len(payload)) + payload


def vi(field, n):
    return key(field, 0) + varint(n)


def st(field, text):
    return ld(field, text.encode())


def f32(x):
    return struct.unpack("<f", struct.pack("<f", x))[0]


def tensor(name, dims, values):
    n = 1
    for d in dims:
        n *= d
    assert len(values) == n
    body = b"".join(vi(1, d) for d in dims) + vi(2, 1) + st(8, name)
    return body + ld(9, struct.pack("<%df" % n, *values))


def attr_int(name, i):
    return st(1, name) + vi(3, i) + vi(20, 2)


def attr_ints(name, ints):
    return st(1, name) + b"".join(vi(8, i) for i in ints) + vi(20, 7)


def node(op, inputs, outputs, name, attrs=()):
    body = b"".join(st(1, i) for i in inputs) + b"".join(st(2, o) for o in outputs)
    return body + st(3, name) + st(4, op) + b"".join(ld(5, a) for a in attrs)


def value_info(name, dims):
    dim = b"".join(ld(1, vi(1, d) if isinstance(d, int) else st(2, d)) for d in dims)
    tensor_type = vi(1, 1) + ld(2, dim)
    return st(1, name) + ld(2, ld(1, tensor_type))


def model(nodes, inits, inp, out):
    graph = b"".join(ld(1, n) for n in nodes) + st(2, "rtas-fixture")
    graph += b"".join(ld(5, t) for t in inits)
    graph += ld(11, value_info(*inp)) + ld(12, value_info(*out))
    opset = st(1, "") + vi(2, 13)
    return vi(1, 8) + st(2, "rtas tools/make_onnx.py") + ld(7, graph) + ld(8, opset)


def weights(rng, n, scale):
    return [f32(rng.uniform(-scale, scale)) for _ in range(n)]


def sigmoid(v):
    return 1.0 / (1.0 + math.exp(-v))


def small_cnn(rng):
    cw = weights(rng, 2 * 1 * 3 * 3, 0.5)
    cb = weights(rng, 2, 0.1)
    gw = weights(rng, 4 * 32, 0.3)  # [out, in], transB = 1
    gb = weights(rng, 4, 0.1)
    nodes = [
        node("Conv", ["x", "cw", "cb"], ["c"], "conv0",
             [attr_ints("kernel_shape", [3, 3]), attr_ints("strides", [1, 1]), attr_ints("pads", [1, 1, 1, 1]),
              attr_ints("dilations", [1, 1]), attr_int("group", 1)]),
        node("Relu", ["c"], ["r"], "relu0"),
        node("AveragePool", ["r"], ["p"], "pool0", [attr_ints("kernel_shape", [2, 2]), attr_ints("strides", [2, 2])]),
        node("Flatten", ["p"], ["f"], "flatten0", [attr_int("axis", 1)]),
        node("Gemm", ["f", "gw", "gb"], ["g"], "fc0", [attr_int("transB", 1)]),
        node("Sigmoid", ["g"], ["y"], "sig0"),
    ]
    inits = [tensor("cw", [2, 1, 3, 3], cw), tensor("cb", [2], cb), tensor("gw", [4, 32], gw), tensor("gb", [4], gb)]
    data = model(nodes, inits, ("x", ["N", 1, 8, 8]), ("y", ["N", 4]))

    def forward(x):  # x: 64 values, [1, 8, 8]
        c = []
        for o in range(2):
            for i in range(8):
                for j in range(8):
                    acc = cb[o]
                    for di in range(3):
                        for dj in range(3):
                            ii, jj = i + di - 1, j + dj - 1
                            if 0 <= ii < 8 and 0 <= jj < 8:
                                acc += cw[o * 9 + di * 3 + dj] * x[ii * 8 + jj]
                    c.append(max(acc, 0.0))
        p = []
        for o in range(2):
            for i in range(4):
                for j in range(4):
                    s = sum(c[o * 64 + (2 * i + a) * 8 + 2 * j + b] for a in range(2) for b in range(2))
                    p.append(s / 4.0)
        return [sigmoid(gb[k] + sum(gw[k * 32 + t] * p[t] for t in range(32))) for k in range(4)]

    return data, 64, forward


def mlp_matmul(rng):
    w0 = weights(rng, 12 * 5, 0.5)  # [in, out]
    b0 = weights(rng, 5, 0.1)
    w1 = weights(rng, 5 * 1, 0.5)  # [in, out], transB = 0
    b1 = weights(rng, 1, 0.1)
    nodes = [
        node("MatMul", ["x", "w0"], ["m"], "matmul0"),
        node("Add", ["m", "b0"], ["a"], "add0"),
        node("Relu", ["a"], ["r"], "relu0"),
        node("Gemm", ["r", "w1", "b1"], ["g"], "fc1"),
        node("Sigmoid", ["g"], ["y"], "sig1"),
    ]
    inits = [tensor("w0", [12, 5], w0), tensor("b0", [5], b0), tensor("w1", [5, 1], w1), tensor("b1", [1], b1)]
    data = model(nodes, inits, ("x", ["batch", 12]), ("y", ["batch", 1]))

    def forward(x):
        h = [max(b0[j] + sum(x[i] * w0[i * 5 + j] for i in range(12)), 0.0) for j in range(5)]
        return [sigmoid(b1[0] + sum(h[j] * w1[j] for j in range(5)))]

    return data, 12, forward


def tanh(rng):
    cw = weights(rng, 2 * 1 * 3 * 3, 0.5)
    nodes = [
        node("Conv", ["x", "cw"], ["c"], "conv0", [attr_ints("kernel_shape", [3, 3])]),
        node("Tanh", ["c"], ["y"], "tanh0", []),
    ]
    return model(nodes, [tensor("cw", [2, 1, 3, 3], cw)], ("x", ["N", 1, 8, 8]), ("y", ["N", 2, 6, 6]))


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(20261126)
    for name, make in [("small-cnn", small_cnn), ("mlp-matmul", mlp_matmul)]:
        data, width, forward = make(rng)
        with open(os.path.join(OUT, name + ".onnx"), "wb") as f:
            f.write(data)
        inputs = [[round(rng.uniform(0, 1), 6) for _ in range(width)] for _ in range(2)]
        expected = {"inputs": inputs, "outputs": [forward(x) for x in inputs]}
        with open(os.path.join(OUT, name + ".expected.json"), "w") as f:
            json.dump(expected, f, indent=1)
            f.write("\n")
    with open(os.path.join(OUT, "tanh.onnx"), "wb") as f:
        f.write(tanh(rng))


if __name__ == "__main__":
    main()
