"""What a privacy researcher does first with rtas, on their own table.

1. Load the table with pandas (default: the bundled loans table, 12 customer features, label `default`).
2. Train the paper's logistic regression in plaintext, under RTAS, RTAS-fast and the cryptographic baseline
   (mpc: FSS gates, no helper), and under DP-SGD at epsilon 1: accuracy against what each step costs
   (bytes online and offline, rounds, modeled LAN and WAN time).
3. Attack RTAS-fast's third party: it sees the first layer's outputs of every training row; with a few rows it
   knows, how many others can it rebuild within 30% (the audit's decoder)?
4. Plot it (matplotlib, when installed) and write the numbers to OUT/summary.csv.

    python examples/compare_protocols.py [--csv FILE --label COLUMN] [--out DIR] [--seed S]
"""

from __future__ import annotations

import argparse
import pathlib

import numpy as np
import pandas as pd

import rtas

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--csv", default=str(ROOT / "data" / "tabular" / "loans.csv"))
    p.add_argument("--label", default="default")
    p.add_argument("--out", default="example-out")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    table = pd.read_csv(args.csv)
    y = table.pop(args.label).to_numpy(dtype=float)
    x = table.to_numpy(dtype=float)
    print(f"{args.csv}: {x.shape[0]} rows, {x.shape[1]} features, label '{args.label}'")

    rows = []
    for protocol, extra in [
        ("rtas", {}),
        ("rtas-fast", {}),
        ("mpc", {}),
        ("dp-sgd", {"target_epsilon": 1.0, "clip": 1.0}),
    ]:
        r = rtas.simulate("logreg", protocol, data=(x, y), standardize=True, lr=0.5, seed=args.seed, **extra)
        step = r.train_step
        by_phase = {}
        for link in step.traffic.by_link:
            by_phase[link.phase] = by_phase.get(link.phase, 0) + link.bytes
        rows.append(
            {
                "protocol": protocol,
                "accuracy": r.accuracy,
                "plain accuracy": r.plain_accuracy,
                "bytes per step": step.total_bytes,
                "online bytes": by_phase.get("online", step.total_bytes),
                "offline bytes": by_phase.get("offline", 0),
                "rounds": step.rounds,
                "LAN s per step": step.modeled_seconds.lan,
                "WAN s per step": step.modeled_seconds.wan,
            }
        )
    # Plaintext: every secure run trains it beside itself on the same batches (its accuracy is in each report).
    plain = dict.fromkeys(rows[0], 0.0)
    plain.update({"protocol": "plain", "accuracy": rows[0]["plain accuracy"], "plain accuracy": rows[0]["plain accuracy"]})
    summary = pd.DataFrame([plain] + rows).set_index("protocol")
    with pd.option_context("display.width", 200, "display.max_columns", 20, "display.float_format", "{:.4g}".format):
        print(summary)
    summary.to_csv(out / "summary.csv")

    # RTAS-fast's third party: a linear decoder fitted on rows it knows, scored on the others it saw. The
    # model is the same logistic regression, written as a file for the attack to train under RTAS-fast.
    model = out / "logreg.toml"
    model.write_text(rtas.logreg_toml(x.shape[1]))
    attack = rtas.attack.decoder(data=(x, y), model=model, standardize=True, steps=100, known=200, seed=args.seed)
    print(
        f"RTAS-fast's third party rebuilds {100 * attack.epsilon:.1f}% of the {attack.trials} other rows it saw "
        f"within {100 * attack.delta_relative:.0f}% (95% interval {100 * attack.ci_low:.1f}-{100 * attack.ci_high:.1f}%) "
        f"from {attack.known} rows it knew"
    )

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no chart (pip install matplotlib)")
        return
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    summary["accuracy"].plot.bar(ax=axes[0], title="test accuracy", ylim=(0, 1), color="tab:blue")
    summary[["online bytes", "offline bytes"]].plot.bar(ax=axes[1], logy=True, title="bytes per training step")
    summary[["LAN s per step", "WAN s per step"]].plot.bar(ax=axes[2], logy=True, title="modeled time per step")
    for ax in axes:
        ax.tick_params(axis="x", rotation=30)
    fig.suptitle(f"{pathlib.Path(args.csv).name}: decoder on RTAS-fast's view rebuilds {100 * attack.epsilon:.0f}% of rows")
    fig.tight_layout()
    fig.savefig(out / "compare.png", dpi=120)
    print(f"wrote {out / 'compare.png'} and {out / 'summary.csv'}")


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
