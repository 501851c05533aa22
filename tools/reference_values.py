#!/usr/bin/env python3
"""Reference values for tests/bounds_reference.rs, computed independently with mpmath at 60 digits.

Run: pip install mpmath && python3 tools/reference_values.py
Prints Rust tuples; the test file holds a copy of this output.
"""
import gzip
import mpmath as mp

mp.mp.dps = 60


def log10_chi2_cdf(k, t):
    # P(chi2_k < t) = P(k/2, t/2); above the mean, through the upper tail Q so that 1 - Q keeps its digits.
    a, x = mp.mpf(k) / 2, mp.mpf(t) / 2
    if x < a:
        # The power series, summed at 60 digits: P = x^a e^-x / Gamma(a+1) * sum_k x^k / ((a+1)...(a+k)).
        total, term, k = mp.mpf(1), mp.mpf(1), 0
        while term > total * mp.mpf(10) ** -45:
            k += 1
            term *= x / (a + k)
            total += term
        return (a * mp.log(x) - x - mp.loggamma(a + 1) + mp.log(total)) / mp.log(10)
    if a < 1000:
        q = mp.gammainc(a, x, mp.inf, regularized=True)
    else:
        # mpmath's hypergeometric series give up for huge a: integrate the density instead (an independent
        # method), Q = int_x^inf t^(a-1) e^-t / Gamma(a) dt, in pieces of sqrt(a) around the peak.
        lg = mp.loggamma(a)
        s = mp.sqrt(a)
        f = lambda t: mp.exp((a - 1) * mp.log(t) - t - lg)
        q = mp.quad(f, [x + j * s for j in range(0, 81)])
    return mp.log1p(-q) / mp.log(10)


def log10_fact(n):
    return mp.loggamma(mp.mpf(n) + 1) / mp.log(10)


chi2 = [
    (783, 1), (684, 1), (783, 196), (684, 196), (1, 9), (1, 1e-6), (3, 50), (2, 700),
    (99999999, 1), (99999999, 0.81e8), (99999999, 99999999), (99999999, 1.001e8), (99999999, 1.1e8),
    (10**8 - 10**6, 0.5e8), (1, 1e-300), (40, 39), (1000, 1200),
]
print("// (k, t, log10 P(chi2_k < t))")
for k, t in chi2:
    print(f"({k}.0, {mp.nstr(mp.mpf(t), 20)}, {mp.nstr(log10_chi2_cdf(k, t), 20)}),")

print("// permutation: (len, counts or empty, known, log10 epsilon)")
perms = [(784, [], 0), (5, [], 0), (10**8, [], 0), (784, [], 700), (10**8, [10**8 - 1, 1], 0),
         (10**8, [5 * 10**7, 5 * 10**7], 0), (1000, [500, 300, 200], 0)]
for n, counts, known in perms:
    if counts:
        v = sum(log10_fact(k) for k in counts) - log10_fact(n)
    else:
        v = -log10_fact(n - known)
    print(f"({n}, vec!{counts}, {known}, {mp.nstr(v, 20)}),")

with gzip.open("data/mnist-10k/images-idx3-ubyte.gz") as f:
    raw = f.read()
img = raw[16:16 + 784]
hist = {}
for b in img:
    hist[b] = hist.get(b, 0) + 1
v = sum(log10_fact(k) for k in hist.values()) - log10_fact(784)
print(f"// bundled MNIST image 0: {len(hist)} distinct values, {hist.get(0, 0)} zeros")
print(f"mnist image 0 log10 epsilon: {mp.nstr(v, 20)}")

print("// linking: (rows, known, log10 mappings)")
for n, m in [(1000000, 1000), (10**8, 10**8), (10, 3), (10**8, 1)]:
    v = log10_fact(n) - log10_fact(n - m)
    print(f"({n}, {m}, {mp.nstr(v, 20)}),")
