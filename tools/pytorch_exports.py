#!/usr/bin/env python3
"""Small MNIST models written the usual ways in PyTorch, trained briefly and exported by torch.onnx.export.

Run through tools/pytorch_exports.sh (it makes the virtual environment). Writes, under models/pytorch/:

- <model>.ts13.onnx, <model>.ts17.onnx: the TorchScript exporter (dynamo=False) at opsets 13 and 17, with a
  dynamic batch axis (dynamic_axes), eval mode, constant folding on (the exporter's defaults);
- <model>.dynamo.onnx: torch 2.15's default exporter (dynamo=True, its default opset), dynamic batch;
- expected.json: per model, PyTorch's test accuracy on the bundled digits' last 2,000 (rtas's test split,
  pixels / 256 as rtas scales them) and its outputs for the first four test digits, computed by the same
  module in float64 (model.double(): the float32 weights the files store, widened exactly), and the float32
  accuracy beside it.

The models, in the styles PyTorch users write them:
- view-mlp: a subclassed module, x.view(x.size(0), -1), Linear, relu, Linear;
- flatten-seq: nn.Sequential(nn.Flatten(), Linear, Sigmoid, Linear);
- avgpool-cnn: Conv2d (padding 1), ReLU, nn.AvgPool2d(2), torch.flatten(x, 1), Linear;
- avgpool-pad-cnn: Conv2d (stride 2), ReLU, nn.AvgPool2d(3, stride=2, padding=1) (count_include_pad), Linear;
- maxpool-cnn: Conv2d, ReLU, nn.MaxPool2d(2), x.view(-1, 8 * 13 * 13), Linear;
- gap-cnn: two Conv2d + ReLU, nn.AdaptiveAvgPool2d(1), x.flatten(1), Linear;
- bn-cnn: Conv2d, BatchNorm2d, ReLU, Dropout, nn.Flatten, Linear, BatchNorm1d, ReLU, Dropout, Linear,
  F.log_softmax (PyTorch's MNIST example's ending).
"""

import gzip
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
OUT = os.path.join(ROOT, "models", "pytorch")
TRAIN = 8000


def idx(path):
    with gzip.open(path, "rb") as f:
        b = f.read()
    dims = b[3]
    shape = [int.from_bytes(b[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(b, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


class ViewMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = x.view(x.size(0), -1)
        return self.fc2(F.relu(self.fc1(x)))


class AvgPoolCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.pool = nn.AvgPool2d(2)
        self.fc = nn.Linear(4 * 14 * 14, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv(x)))
        return self.fc(torch.flatten(x, 1))


class AvgPoolPadCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 5, stride=2)
        self.pool = nn.AvgPool2d(3, stride=2, padding=1)
        self.fc = nn.Linear(4 * 6 * 6, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv(x)))
        return self.fc(x.reshape(x.shape[0], -1))


class MaxPoolCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 13 * 13, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv(x)))
        return self.fc(x.view(-1, 8 * 13 * 13))


class GapCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 16, 3, stride=2)
        self.c2 = nn.Conv2d(16, 32, 3, stride=2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = F.relu(self.c2(F.relu(self.c1(x))))
        return self.fc(self.gap(x).flatten(1))


class BnCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, stride=2)
        self.bn1 = nn.BatchNorm2d(4)
        self.drop1 = nn.Dropout(0.25)
        self.flat = nn.Flatten()
        self.fc1 = nn.Linear(4 * 13 * 13, 32)
        self.bn2 = nn.BatchNorm1d(32)
        self.drop2 = nn.Dropout(0.5)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = self.drop1(F.relu(self.bn1(self.conv(x))))
        x = self.drop2(F.relu(self.bn2(self.fc1(self.flat(x)))))
        return F.log_softmax(self.fc2(x), dim=1)


MODELS = {
    "view-mlp": (ViewMLP, "logits"),
    "flatten-seq": (lambda: nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.Sigmoid(), nn.Linear(32, 10)), "logits"),
    "avgpool-cnn": (AvgPoolCNN, "logits"),
    "avgpool-pad-cnn": (AvgPoolPadCNN, "logits"),
    "maxpool-cnn": (MaxPoolCNN, "logits"),
    "gap-cnn": (GapCNN, "logits"),
    "bn-cnn": (BnCNN, "log_softmax"),
}


def train(model, x, y, ending, seed):
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    model.train()
    # A global pool learns more slowly than the rest: it gets more epochs.
    for epoch in range(6 if isinstance(model, GapCNN) else 2):
        order = torch.randperm(len(x))
        for k in range(0, len(x) - 63, 64):
            rows = order[k : k + 64]
            out = model(x[rows])
            loss = F.nll_loss(out, y[rows]) if ending == "log_softmax" else F.cross_entropy(out, y[rows])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()


def export(model, name, example):
    files = []
    for opset in (13, 17):
        path = os.path.join(OUT, f"{name}.ts{opset}.onnx")
        torch.onnx.export(
            model,
            (example,),
            path,
            dynamo=False,
            opset_version=opset,
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        )
        files.append(os.path.basename(path))
    path = os.path.join(OUT, f"{name}.dynamo.onnx")
    prog = torch.onnx.export(
        model,
        (example,),
        dynamo=True,
        input_names=["input"],
        output_names=["output"],
        dynamic_shapes=({0: torch.export.Dim("batch", min=2, max=1 << 20)},),
    )
    prog.save(path, external_data=False)
    files.append(os.path.basename(path))
    return files


def main():
    only = set(sys.argv[1:])
    os.makedirs(OUT, exist_ok=True)
    images = idx(os.path.join(ROOT, "data", "mnist-10k", "images-idx3-ubyte.gz")).astype(np.float64) / 256.0
    labels = idx(os.path.join(ROOT, "data", "mnist-10k", "labels-idx1-ubyte.gz")).astype(np.int64)
    x = torch.tensor(images[:, None, :, :], dtype=torch.float32)
    y = torch.tensor(labels)
    xtr, ytr, xte, yte = x[:TRAIN], y[:TRAIN], x[TRAIN:], y[TRAIN:]
    xte64 = torch.tensor(images[TRAIN:, None, :, :], dtype=torch.float64)
    path = os.path.join(OUT, "expected.json")
    expected = json.load(open(path)) if os.path.exists(path) else {}
    expected.pop("_about", None)
    for i, (name, (make, ending)) in enumerate(MODELS.items()):
        if only and name not in only:
            continue
        torch.manual_seed(100 + i)
        model = make()
        train(model, xtr, ytr, ending, 200 + i)
        with torch.no_grad():
            acc32 = (model(xte).argmax(1) == yte).sum().item()
        files = export(model, name, xtr[:2])
        m64 = model.double()
        with torch.no_grad():
            out = m64(xte64)
        expected[name] = {
            "files": files,
            "ending": ending,
            "test": len(yte),
            "correct": int((out.argmax(1) == yte).sum().item()),
            "correct_float32": int(acc32),
            "outputs": out[:4].tolist(),
        }
        print(f"{name}: {expected[name]['correct']}/{len(yte)} (float32 {acc32}), {', '.join(files)}")
    expected = {
        "_about": "written by tools/pytorch_exports.sh (torch " + torch.__version__ + "); do not edit",
        **dict(sorted(expected.items())),
    }
    with open(path, "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
