#!/usr/bin/env python3
"""Writes data/tabular/loans.csv: a small synthetic table for the paper's motivating example (several
banks training a logistic regression on their customers' records without pooling them).

2,000 rows, 12 numeric features with realistic scales and correlations (income, debt, age, ...), and a
binary label `default` drawn from a logistic model of them. Deterministic (seed 2024); pure Python.
Run from the repository root: python3 tools/make_tabular.py
"""
import math
import random

rng = random.Random(2024)
names = ["income_k", "debt_k", "age", "years_employed", "credit_lines", "late_payments",
         "utilization", "savings_k", "dependents", "loan_k", "term_months", "rate_pct"]
rows = []
for _ in range(2000):
    age = rng.uniform(21, 70)
    years = max(0.0, min(age - 20, rng.gauss((age - 20) * 0.5, 4)))
    income = max(12.0, rng.lognormvariate(math.log(35 + 1.2 * years), 0.35))
    debt = max(0.0, rng.gauss(0.4 * income, 0.2 * income))
    lines = max(0, int(rng.gauss(4 + years / 6, 2)))
    late = max(0, int(rng.expovariate(1.2)))
    util = min(1.0, max(0.0, rng.gauss(0.35 + 0.05 * late, 0.15)))
    savings = max(0.0, rng.gauss(0.3 * income - 0.2 * debt, 8))
    dependents = max(0, int(rng.gauss(1.2, 1.1)))
    loan = max(1.0, rng.gauss(0.5 * income, 0.2 * income))
    term = rng.choice([12, 24, 36, 48, 60])
    rate = max(2.0, rng.gauss(6 + 1.5 * late + 4 * util, 1.5))
    z = 3.0 * (-1.2 + 0.025 * debt - 0.02 * income + 0.55 * late + 2.0 * util - 0.012 * savings
               + 0.08 * dependents + 0.01 * loan - 0.02 * years + 0.12 * (rate - 6))
    default = 1 if rng.random() < 1 / (1 + math.exp(-z)) else 0
    rows.append([income, debt, age, years, lines, late, util, savings, dependents, loan, term, rate, default])
with open("data/tabular/loans.csv", "w") as f:
    f.write(",".join(names + ["default"]) + "\n")
    for r in rows:
        f.write(",".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in r) + "\n")
print("wrote data/tabular/loans.csv:", len(rows), "rows,", sum(r[-1] for r in rows), "defaults")
