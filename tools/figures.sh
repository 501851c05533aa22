#!/usr/bin/env bash
# Every figure of op, simulate, plan, tables --no-wall, audit --quick and report --quick as JSON, from one
# binary, for comparing two builds: tools/figures.sh OLD_BIN /tmp/a; tools/figures.sh NEW_BIN /tmp/b;
# python3 tools/compare_figures.py /tmp/a /tmp/b (timings and the run-time ring path excepted).
# usage: tools/figures.sh BIN OUTDIR
set -u
BIN=$(realpath "$1"); OUT=$(mkdir -p "$2" && cd "$2" && pwd); cd "$(dirname "$0")/.."
run() { name=$1; shift; $BIN "$@" --json > $OUT/$name.json 2> $OUT/$name.err; echo "$name $?" >> $OUT/rc.txt; }
: > $OUT/rc.txt
run op-matmul op --op matmul --shape 32x784x100 --seed 3
run op-conv op --op conv2d --shape 8x1x28x28 --kernel 4x1x4x4 --stride 2 --seed 3
run op-sigmoid op --op sigmoid --shape 1000 --seed 3
run op-relu-mpc op --op relu --protocol mpc --shape 1000 --seed 3
run sim-logreg-rtas simulate --model logreg --protocol rtas --max-steps 20 --test-size 500 --seed 2
run sim-logreg-plain simulate --model logreg --protocol plain --max-steps 20 --test-size 500 --seed 2
run sim-cnn-fast simulate --model cnn --protocol rtas-fast --max-steps 6 --test-size 200 --seed 2
run sim-cnn-mpc simulate --model cnn --protocol mpc --max-steps 3 --test-size 64 --infer-batch 64 --seed 2
run sim-cnn-rtas-float simulate --model cnn --protocol rtas --sharing float --max-steps 3 --test-size 64 --seed 2
run sim-cnn-reuse simulate --model cnn --protocol rtas --reuse-masks --max-steps 3 --train-size 200 --test-size 64 --seed 2
run sim-lenet-rtas simulate --model models/lenet5.toml --protocol rtas --max-steps 3 --test-size 64 --seed 2
run sim-lenet-fast simulate --model models/lenet5.toml --protocol rtas-fast --max-steps 3 --test-size 64 --seed 2
run sim-mlp-mpc simulate --model models/mlp.toml --protocol mpc --max-steps 3 --test-size 64 --seed 2
run sim-lenet-plain simulate --model models/lenet5.toml --protocol plain --max-steps 10 --seed 2
run sim-mlp-plain simulate --model models/mlp.toml --protocol plain --max-steps 10 --seed 2
run sim-loans-plain simulate --model models/loans-logreg.toml --protocol plain --data-file data/tabular/loans.csv --label default --standardize --max-steps 30 --seed 2
run plan-cnn plan --model cnn
run plan-lenet plan --model models/lenet5.toml --protocols rtas,rtas-fast,mpc
run tables tables --no-wall --steps 3 --seed 1
run audit audit --quick --seed 1
$BIN report --quick --out $OUT/report --seed 1 > $OUT/report.out 2> $OUT/report.err; echo "report $?" >> $OUT/rc.txt
run sim-loans-rtas simulate --model models/loans-logreg.toml --protocol rtas --data-file data/tabular/loans.csv --label default --standardize --max-steps 10 --seed 2
run sim-onnx-rtas simulate --model models/onnx/small-cnn.onnx --protocol rtas --max-steps 2 --test-size 32 --seed 2
run sim-onnx-plain simulate --model models/onnx/mlp-matmul.onnx --protocol plain --max-steps 5 --seed 2
