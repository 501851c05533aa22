//! Protocol primitives: results against plaintext within the fixed-point error, ledgers against the
//! formulas in the rustdoc of `rtas::protocol::beaver`, `io` and `elementwise`, shares that do not depend
//! on the secret, views that hold only what their party is meant to see, and reproducibility.

use ndarray::{ArrayD, Ix2, IxDyn};
use proptest::prelude::*;
use rtas::net::{Label, Op, Payload, Phase, Role, Stage, ViewKind};
use rtas::protocol::conv::conv2d;
use rtas::protocol::dealer::Reuse;
use rtas::protocol::elementwise::{self, relu, relu_grad, sigmoid, sigmoid_grad};
use rtas::protocol::party::FssGate;
use rtas::protocol::party::Party;
use rtas::protocol::ring::{Arith, FloatArith, RingArith};
use rtas::protocol::share::Shared;
use rtas::protocol::{beaver, io};
use rtas::sim::measure::{Traffic, traffic};
use rtas::sim::record::{LedgerEntry, Recording};
use rtas::sim::run::{ProtocolRun, run_protocol};
use std::collections::BTreeMap;

/// A label in the measured operation's stage.
fn at(layer: &str) -> Label {
    Stage::Op.at(layer)
}

/// Bytes and rounds of the messages `keep` selects.
fn traffic_where(rec: &Recording, keep: impl Fn(&LedgerEntry) -> bool) -> Traffic {
    traffic(&rec.messages_where(keep)).unwrap()
}

/// Bytes and rounds of the messages of one layer of the measured operation.
fn layer_traffic(rec: &Recording, layer: &str) -> Traffic {
    traffic_where(rec, |e| e.label.stage == Stage::Op && e.label.layer == layer)
}

/// Bytes on one directed link, both phases.
fn link(t: &Traffic, from: Role, to: Role) -> u64 {
    t.links().get(&(from, to)).copied().unwrap_or(0)
}

/// No role holds anything of its own (tests whose owner value is passed in the closure).
fn nothing() -> BTreeMap<Role, ()> {
    BTreeMap::new()
}

const ROLES: [Role; 4] = [Role::P0, Role::P1, Role::Dealer, Role::Owner];
const ULP: f64 = 1.0 / 65536.0; // 2^-16, the default fixed point

fn data(shape: &[usize], seed: u64, scale: f64) -> ArrayD<f64> {
    let n: usize = shape.iter().product();
    let v = (0..n).map(|i| ((i as f64 * 0.37 + seed as f64 * 1.3).sin()) * scale).collect();
    ArrayD::from_shape_vec(IxDyn(shape), v).unwrap()
}

fn m2(a: &ArrayD<f64>) -> ndarray::Array2<f64> {
    a.clone().into_dimensionality::<Ix2>().unwrap()
}

fn max_diff(a: &ArrayD<f64>, b: &ArrayD<f64>) -> f64 {
    assert_eq!(a.shape(), b.shape());
    a.iter().zip(b.iter()).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// Shares `inputs` from the owner, runs `op` on them, opens the result.
fn secure<A: Arith, F>(arith: &A, seed: u64, inputs: &[ArrayD<f64>], op: F) -> ProtocolRun<Option<ArrayD<f64>>>
where
    F: Fn(&mut Party<A>, &[Shared<A::E>]) -> rtas::Result<Shared<A::E>> + Sync,
{
    // Only the owner is handed the inputs; the others know their shapes.
    let shapes: Vec<Vec<usize>> = inputs.iter().map(|x| x.shape().to_vec()).collect();
    let owned = BTreeMap::from([(Role::Owner, inputs.to_vec())]);
    run_protocol(arith, &ROLES, seed, true, owned, |p, mine: Vec<ArrayD<f64>>| {
        p.stage(Stage::Input);
        let mut xs = Vec::new();
        for (i, shape) in shapes.iter().enumerate() {
            xs.push(io::share_from(p, Role::Owner, mine.get(i), shape, &Stage::Input.at(format!("in{i}")))?);
        }
        p.stage(Stage::Op);
        let z = op(p, &xs)?;
        p.stage(Stage::Output);
        io::open(p, &z, &Stage::Output.at(""))
    })
    .unwrap()
}

fn output(run: &ProtocolRun<Option<ArrayD<f64>>>) -> ArrayD<f64> {
    let a = run.outputs[&Role::P0].clone().unwrap();
    assert_eq!(Some(&a), run.outputs[&Role::P1].as_ref(), "P0 and P1 open the same value");
    a
}

/// Encoding error of one input (round to nearest) is ULP/2; a product of sums over `k` terms of inputs
/// bounded by `bx`, `by` errs by at most k (bx + by) ULP/2 + k ULP^2/4, plus one ULP of truncation.
fn product_bound(k: usize, bx: f64, by: f64) -> f64 {
    k as f64 * ((bx + by) * ULP / 2.0 + ULP * ULP / 4.0) + ULP
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn matmul_within_fixed_point_error(m in 1usize..12, k in 1usize..40, n in 1usize..9, seed in 0u64..1000, scale in 0.01f64..8.0) {
        let (x, w) = (data(&[m, k], seed, scale), data(&[k, n], seed + 7, 1.0));
        let run = secure(&RingArith::default(), seed, &[x.clone(), w.clone()], |p, s| Ok(beaver::matmul(p, &s[0], &s[1], false, &at(""))?.0));
        let want = m2(&x).dot(&m2(&w)).into_dyn();
        prop_assert!(max_diff(&output(&run), &want) <= product_bound(k, scale, 1.0));
    }

    #[test]
    fn mul_within_fixed_point_error(r in 1usize..10, c in 1usize..10, seed in 0u64..1000, scale in 0.01f64..100.0) {
        let (x, y) = (data(&[r, c], seed, scale), data(&[r, c], seed + 3, 2.0));
        let run = secure(&RingArith::default(), seed, &[x.clone(), y.clone()], |p, s| beaver::mul(p, &s[0], &s[1], &at("")));
        prop_assert!(max_diff(&output(&run), &(&x * &y)) <= product_bound(1, scale, 2.0));
    }

    #[test]
    fn conv2d_within_fixed_point_error(b in 1usize..3, c in 1usize..3, h in 4usize..9, o in 1usize..4, kk in 1usize..4, stride in 1usize..3, seed in 0u64..1000) {
        let (x, w) = (data(&[b, c, h, h + 1], seed, 1.0), data(&[o, c, kk, kk], seed + 1, 1.0));
        let run = secure(&RingArith::default(), seed, &[x.clone(), w.clone()], |p, s| Ok(beaver::conv2d(p, &s[0], &s[1], stride, false, &at(""))?.0));
        let want = conv2d(&x, &w, stride).unwrap();
        prop_assert!(max_diff(&output(&run), &want) <= product_bound(c * kk * kk, 1.0, 1.0));
    }

    #[test]
    fn transposed_reuse_within_fixed_point_error(m in 1usize..10, k in 1usize..12, n in 1usize..6, n2 in 1usize..6, seed in 0u64..1000) {
        // Forward X W, then Xᵀ D reusing X's opened mask: X is opened once.
        let (x, w, d) = (data(&[m, k], seed, 1.0), data(&[k, n], seed + 1, 1.0), data(&[m, n2], seed + 2, 1.0));
        let run = secure(&RingArith::default(), seed, &[x.clone(), w, d.clone()], |p, s| {
            let (_, masked, _) = beaver::matmul(p, &s[0], &s[1], true, &at("fwd"))?;
            beaver::matmul_reusing(p, &masked, Reuse::Transpose, &s[2], &at("bwd"))
        });
        let want = m2(&x).t().dot(&m2(&d)).into_dyn();
        prop_assert!(max_diff(&output(&run), &want) <= product_bound(m, 1.0, 1.0));
        let opened_x: usize = run.recording.ledger.iter().filter(|e| e.label == at("bwd").op(Op::Open)).map(|e| e.bytes as usize / 8).sum();
        prop_assert_eq!(opened_x, 2 * m * n2, "only D - V' is opened for the reuse");
    }

    #[test]
    fn every_reuse_within_fixed_point_error(m in 3usize..9, k in 1usize..8, n in 1usize..5, seed in 0u64..1000) {
        // W's forward mask reused for W dᵀ; rows of a data set masked once (SecureML's reuse across epochs).
        let (x, w, d) = (data(&[m, k], seed, 1.0), data(&[k, n], seed + 1, 1.0), data(&[m, n], seed + 2, 1.0));
        let rows = vec![m - 1, 0, m / 2];
        let run = run_protocol(&RingArith::default(), &ROLES, seed, false, nothing(), |p, ()| {
            let mut s = Vec::new();
            for (i, v) in [&x, &w, &d].iter().enumerate() {
                s.push(io::share_from(p, Role::Owner, (p.role == Role::Owner).then_some(*v), v.shape(), &at(&format!("in{i}")))?);
            }
            let (_, _, mw) = beaver::matmul(p, &s[0], &s[1], true, &at("fwd"))?;
            let wdt = beaver::matmul_reusing(p, &mw, Reuse::Identity, &s[2].t()?, &at("wdt"))?;
            let all = beaver::open_masked(p, &s[0], &at("data"))?;
            let sel = beaver::matmul_reusing(p, &all, Reuse::Rows(rows.clone()), &s[1], &at("rows"))?;
            let selt = beaver::matmul_reusing(p, &all, Reuse::RowsTranspose(rows.clone()), &s[2].reshape(&[m, n])?.relayout(&[3, n], |a| Ok(a.select(ndarray::Axis(0), &[0, 1, 2])))?, &at("rowst"))?;
            Ok((io::open(p, &wdt, &at("o1"))?, io::open(p, &sel, &at("o2"))?, io::open(p, &selt, &at("o3"))?))
        }).unwrap();
        let (wdt, sel, selt) = run.outputs[&Role::P0].clone();
        let (xm, wm, dm) = (m2(&x), m2(&w), m2(&d));
        prop_assert!(max_diff(&wdt.unwrap(), &wm.dot(&dm.t()).into_dyn()) <= product_bound(n, 1.0, 1.0));
        let xs = xm.select(ndarray::Axis(0), &rows);
        prop_assert!(max_diff(&sel.unwrap(), &xs.dot(&wm).into_dyn()) <= product_bound(k, 1.0, 1.0));
        let d3 = dm.select(ndarray::Axis(0), &[0, 1, 2]);
        prop_assert!(max_diff(&selt.unwrap(), &xs.t().dot(&d3).into_dyn()) <= product_bound(3, 1.0, 1.0));
        let t = layer_traffic(&run.recording, "rows");
        prop_assert_eq!(link(&t, Role::P0, Role::P1), 8 * (k * n) as u64, "a masked data set costs only the weight's opening");
    }

    #[test]
    fn helper_functions_within_encoding_error(r in 1usize..8, c in 1usize..8, seed in 0u64..1000) {
        let x = data(&[r, c], seed, 6.0);
        let run = run_protocol(&RingArith::default(), &ROLES, seed, false, nothing(), |p, ()| {
            let xs = io::share_from(p, Role::Owner, (p.role == Role::Owner).then_some(&x), &[r, c], &at("x"))?;
            let outs = elementwise::apply(p, &xs, &[&sigmoid, &sigmoid_grad, &relu, &relu_grad], &at("act"))?;
            let mut opened = Vec::new();
            for (i, o) in outs.iter().enumerate() {
                opened.push(io::open(p, o, &at(&format!("o{i}")))?);
            }
            Ok(opened)
        }).unwrap();
        let got = &run.outputs[&Role::P1];
        let fs: [fn(f64) -> f64; 4] = [sigmoid, sigmoid_grad, relu, relu_grad];
        for (i, f) in fs.iter().enumerate() {
            let want = x.mapv(f);
            // Input rounding moves x by ULP/2 (slope <= 1), output rounding adds ULP/2; relu_grad is exact
            // away from 0, and the data never sits within ULP of 0.
            prop_assert!(max_diff(got[i].as_ref().unwrap(), &want) <= ULP + 1e-12);
        }
    }
}

#[test]
fn float_sharing_runs_the_same_operations() {
    let (x, w) = (data(&[6, 9], 1, 1.0), data(&[9, 4], 2, 1.0));
    let run = secure(&FloatArith::default(), 3, &[x.clone(), w.clone()], |p, s| {
        Ok(beaver::matmul(p, &s[0], &s[1], false, &at(""))?.0)
    });
    assert!(max_diff(&output(&run), &m2(&x).dot(&m2(&w)).into_dyn()) < 1e-9);
    let run = secure(&FloatArith::default(), 3, std::slice::from_ref(&x), |p, s| {
        Ok(elementwise::apply(p, &s[0], &[&sigmoid], &at(""))?.remove(0))
    });
    assert!(max_diff(&output(&run), &x.mapv(sigmoid)) < 1e-9);
}

fn op_traffic(run: &ProtocolRun<Option<ArrayD<f64>>>) -> Traffic {
    traffic_where(&run.recording, |e| e.label.stage == Stage::Op)
}

#[test]
fn ledgers_equal_the_formulas() {
    let b = |elems: usize| 8 * elems as u64;
    // Element-wise product, n elements: 2n each way online, n from the dealer to P1 offline, 1 round.
    let (x, y) = (data(&[3, 5], 1, 1.0), data(&[3, 5], 2, 1.0));
    let t = op_traffic(&secure(&RingArith::default(), 1, &[x, y], |p, s| beaver::mul(p, &s[0], &s[1], &at(""))));
    assert_eq!(
        (link(&t, Role::P0, Role::P1), link(&t, Role::P1, Role::P0), link(&t, Role::Dealer, Role::P1)),
        (b(30), b(30), b(15))
    );
    assert_eq!((t.rounds, t.offline_rounds, t.links().len()), (1, 1, 3));
    assert_eq!(t.bytes(Phase::Offline, Role::Dealer, Role::P1), b(15));
    // Convolution (B,C,H,W) = (2,1,6,6) by (O,C,KH,KW) = (3,1,3,3), stride 1: BCHW + OCKHKW each way,
    // B*O*OH*OW = 2*3*4*4 from the dealer.
    let (x, w) = (data(&[2, 1, 6, 6], 1, 1.0), data(&[3, 1, 3, 3], 2, 1.0));
    let t = op_traffic(&secure(&RingArith::default(), 1, &[x, w], |p, s| {
        Ok(beaver::conv2d(p, &s[0], &s[1], 1, false, &at(""))?.0)
    }));
    assert_eq!(
        (link(&t, Role::P0, Role::P1), link(&t, Role::P1, Role::P0), link(&t, Role::Dealer, Role::P1)),
        (b(72 + 27), b(72 + 27), b(96))
    );
    assert_eq!(t.rounds, 1);
    // Helper, n elements, k = 2 functions: n from each party to the helper, k n back to P1, 2 rounds.
    let x = data(&[4, 5], 1, 1.0);
    let t = op_traffic(&secure(&RingArith::default(), 1, &[x], |p, s| {
        Ok(elementwise::apply(p, &s[0], &[&sigmoid, &sigmoid_grad], &at(""))?.remove(0))
    }));
    assert_eq!(
        (link(&t, Role::P0, Role::Dealer), link(&t, Role::P1, Role::Dealer), link(&t, Role::Dealer, Role::P1)),
        (b(20), b(20), b(40))
    );
    assert!(!t.links().contains_key(&(Role::Dealer, Role::P0)) && !t.links().contains_key(&(Role::P0, Role::P1)));
    assert_eq!((t.rounds, t.offline_rounds), (2, 0));
    // Input sharing by the owner: n elements to P1 and nothing to P0; opening: n each way, 1 round.
    let x = data(&[7, 3], 1, 1.0);
    let run = secure(&RingArith::default(), 1, &[x], |_, s| Ok(s[0].clone()));
    let share = traffic_where(&run.recording, |e| e.label == Stage::Input.at("in0").op(Op::Share));
    assert_eq!((link(&share, Role::Owner, Role::P1), share.links().len(), share.rounds), (b(21), 1, 1));
    let open = traffic_where(&run.recording, |e| e.label.stage == Stage::Output);
    assert_eq!((link(&open, Role::P0, Role::P1), link(&open, Role::P1, Role::P0), open.rounds), (b(21), b(21), 1));
    // Seeds: 16 bytes per shared seed at setup, offline.
    let setup = traffic_where(&run.recording, |e| e.label.stage == Stage::Setup);
    assert_eq!(setup.total_bytes, 16 * 4); // D-P0, D-P1, P0-P1, O-P0
    assert_eq!(setup.rounds, 0);
}

#[test]
fn reveal_to_the_third_party_and_back() {
    // RTAS-fast's hand-over: the activations go to T in the clear; T shares a gradient back.
    let roles = [Role::P0, Role::P1, Role::Dealer, Role::ThirdParty, Role::Owner];
    let x = data(&[4, 3], 5, 2.0);
    let run = run_protocol(&RingArith::default(), &roles, 4, true, nothing(), |p, ()| {
        let xs = io::share_from(p, Role::Owner, (p.role == Role::Owner).then_some(&x), &[4, 3], &at("x"))?;
        let seen = io::reveal_to(p, &xs, Role::ThirdParty, &at("act"))?;
        let grad = seen.as_ref().map(|v| v.mapv(|a| 2.0 * a));
        let g = io::share_from(p, Role::ThirdParty, grad.as_ref(), &[4, 3], &at("grad"))?;
        Ok((seen, io::open(p, &g, &at("g"))?))
    })
    .unwrap();
    let seen = run.outputs[&Role::ThirdParty].0.clone().unwrap();
    assert!(max_diff(&seen, &x) <= ULP / 2.0);
    let g = run.outputs[&Role::P0].1.clone().unwrap();
    assert!(max_diff(&g, &x.mapv(|a| 2.0 * a)) <= 2.0 * ULP);
    let t = layer_traffic(&run.recording, "act");
    assert_eq!((link(&t, Role::P0, Role::ThirdParty), link(&t, Role::P1, Role::ThirdParty), t.rounds), (96, 96, 1));
    let t = layer_traffic(&run.recording, "grad");
    assert_eq!((link(&t, Role::ThirdParty, Role::P1), t.links().len()), (96, 1));
    let view = &run.recording.views[&Role::ThirdParty];
    assert!(view.received.iter().any(|v| v.kind == ViewKind::Revealed && v.label == at("act").op(Op::Reveal)));
}

/// The top 4 bits of every ring share P1 received in input sharing, as a histogram.
fn share_histogram(secret: f64, reps: u64) -> [u64; 16] {
    let mut h = [0u64; 16];
    let x = ArrayD::from_elem(IxDyn(&[256]), secret);
    for seed in 0..reps {
        let run = run_protocol(&RingArith::default(), &ROLES, seed, true, nothing(), |p, ()| {
            io::share_from(p, Role::Owner, (p.role == Role::Owner).then_some(&x), &[256], &at("x"))?;
            Ok(())
        })
        .unwrap();
        for v in &run.recording.views[&Role::P1].received {
            if let Payload::Ring(a) = &v.payload {
                a.iter().for_each(|e| h[(e >> 60) as usize] += 1);
            }
        }
    }
    h
}

fn chi2_uniform(h: &[u64; 16]) -> f64 {
    let n: u64 = h.iter().sum();
    let e = n as f64 / 16.0;
    h.iter().map(|&o| (o as f64 - e).powi(2) / e).sum()
}

#[test]
fn a_share_does_not_depend_on_the_secret() {
    // Ring shares of 0 and of 1000 are both uniform (chi-square, 15 degrees of freedom: 99.9% quantile 37.7).
    for secret in [0.0, 1000.0, -3.5] {
        let c = chi2_uniform(&share_histogram(secret, 20));
        assert!(c < 37.7, "secret {secret}: chi2 {c}");
    }
    // The same test catches a broken mask: the paper's float sharing leaks the secret in the mean of a
    // share (x - r with r ~ N(0, 10^2): the mean over 5,120 shares moves with x by many standard errors).
    let mean_share = |secret: f64| {
        let x = ArrayD::from_elem(IxDyn(&[256]), secret);
        let mut sum = 0.0;
        let mut n = 0.0;
        for seed in 0..20 {
            let run = run_protocol(&FloatArith::default(), &ROLES, seed, true, nothing(), |p, ()| {
                io::share_from(p, Role::Owner, (p.role == Role::Owner).then_some(&x), &[256], &at("x"))?;
                Ok(())
            })
            .unwrap();
            for v in &run.recording.views[&Role::P1].received {
                if let Payload::Float(a) = &v.payload {
                    sum += a.sum();
                    n += a.len() as f64;
                }
            }
        }
        sum / n
    };
    let se = 10.0 / (5120f64).sqrt();
    assert!((mean_share(5.0) - mean_share(0.0) - 5.0).abs() < 5.0 * se * 1.5, "float shares carry x");
}

#[test]
fn views_hold_only_masked_values() {
    let (x, w) = (data(&[16, 12], 9, 3.0), data(&[12, 5], 10, 1.0));
    let arith = RingArith::default();
    let xe = arith.encode_all(&x).unwrap();
    let run = secure(&arith, 11, &[x.clone(), w], |p, s| {
        let (z, _, _) = beaver::matmul(p, &s[0], &s[1], false, &at(""))?;
        Ok(elementwise::apply(p, &z, &[&sigmoid], &at("act"))?.remove(0))
    });
    let secret: std::collections::HashSet<u64> = xe.iter().copied().collect();
    for role in [Role::P0, Role::P1, Role::Dealer] {
        for v in &run.recording.views[&role].received {
            if v.kind == ViewKind::Output {
                continue; // the final opening is meant to be seen
            }
            if let Payload::Ring(a) = &v.payload {
                let hits = a.iter().filter(|e| secret.contains(e)).count();
                assert!(hits <= 1, "{role}'s view '{}' holds {hits} elements of X in the clear", v.label);
            }
        }
    }
    // The helper is meant to see the permuted pre-activations, and only permuted: the two shares it got
    // add up to a permutation of X W, not X W itself in order.
    let dv = &run.recording.views[&Role::Dealer];
    let perm: Vec<&ArrayD<u64>> = dv
        .of_kind(ViewKind::Permuted)
        .map(|v| match &v.payload {
            Payload::Ring(a) => a,
            _ => panic!("ring payload"),
        })
        .collect();
    assert_eq!(perm.len(), 2);
    let sum: Vec<f64> = perm[0].iter().zip(perm[1].iter()).map(|(a, b)| arith.decode(a.wrapping_add(*b))).collect();
    let mut plain = output(&secure(&arith, 11, &[x, data(&[12, 5], 10, 1.0)], |p, s| {
        Ok(beaver::matmul(p, &s[0], &s[1], false, &at(""))?.0)
    }))
    .iter()
    .copied()
    .collect::<Vec<_>>();
    let in_order = sum.iter().zip(&plain).filter(|(a, b)| (*a - *b).abs() < 1e-3).count();
    assert!(in_order < sum.len() / 4, "the helper's vector is not permuted ({in_order} in place)");
    let mut sorted = sum.clone();
    sorted.sort_by(f64::total_cmp);
    plain.sort_by(f64::total_cmp);
    assert!(sorted.iter().zip(&plain).all(|(a, b)| (a - b).abs() < 1e-3), "it is a permutation of X W");
}

#[test]
fn same_seed_same_ledger_and_results() {
    let (x, w) = (data(&[5, 6], 1, 1.0), data(&[6, 3], 2, 1.0));
    let go = |seed| {
        secure(&RingArith::default(), seed, &[x.clone(), w.clone()], |p, s| {
            let (z, _, _) = beaver::matmul(p, &s[0], &s[1], false, &at(""))?;
            Ok(elementwise::apply(p, &z, &[&relu], &at("act"))?.remove(0))
        })
    };
    let (a, b, c) = (go(5), go(5), go(6));
    let key = |r: &ProtocolRun<Option<ArrayD<f64>>>| {
        r.recording.ledger.iter().map(|e| (e.from, e.to, e.bytes, e.label.clone(), e.phase)).collect::<Vec<_>>()
    };
    assert_eq!(key(&a), key(&b));
    assert_eq!(output(&a), output(&b));
    let payloads = |r: &ProtocolRun<Option<ArrayD<f64>>>| {
        r.recording.views[&Role::P1]
            .received
            .iter()
            .filter_map(|v| if let Payload::Ring(p) = &v.payload { Some(p.clone()) } else { None })
            .collect::<Vec<_>>()
    };
    assert_eq!(payloads(&a), payloads(&b), "same seed, same shares");
    assert_ne!(payloads(&a), payloads(&c), "another seed, other shares");
    assert!(a.recording.ledger.iter().all(|e| e.phase == Phase::Offline || e.kind != ViewKind::Seed));
}

#[test]
fn local_operations_need_no_messages() {
    let (x, y) = (data(&[4, 3], 1, 2.0), data(&[4, 3], 2, 2.0));
    let arith = RingArith::default();
    let run = run_protocol(&arith, &ROLES, 3, false, nothing(), |p, ()| {
        let idx = p.share_index();
        let xs = io::share_from(p, Role::Owner, (p.role == Role::Owner).then_some(&x), &[4, 3], &at("x"))?;
        let ys = io::share_from(p, Role::Owner, (p.role == Role::Owner).then_some(&y), &[4, 3], &at("y"))?;

        let ones = arith.encode_all(&ArrayD::from_elem(IxDyn(&[4, 3]), 1.0))?;
        let sum = xs.add(&ys)?.sub(&ys)?.add(&xs)?; // 2x
        let scaled = p.scale(&sum, 0.25)?.add_public(idx, &ones)?; // x/2 + 1
        let t = scaled.t()?.reshape(&[3, 2, 2])?.reshape(&[3, 4])?.t()?; // back to 4x3
        let col = t.sum_axis0()?; // 3
        Ok((io::open(p, &t, &at("t"))?, io::open(p, &col, &at("c"))?))
    })
    .unwrap();
    let (t, col) = run.outputs[&Role::P0].clone();
    let want = x.mapv(|v| v / 2.0 + 1.0);
    assert!(max_diff(&t.unwrap(), &want) <= 2.0 * ULP);
    let want_col = want.sum_axis(ndarray::Axis(0));
    assert!(max_diff(&col.unwrap(), &want_col) <= 8.0 * ULP);
    // Seeds (D-P0, D-P1, P0-P1, O-P0), the two input shares (O -> P1), two openings each way: nothing else.
    assert_eq!(run.recording.ledger.len(), 4 + 2 + 2 * 2);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn every_ring_path_gives_the_same_bits(m in 1usize..24, k in 1usize..1300, n in 1usize..12, seed in 0u64..1000, ones in 0u8..4) {
        // Random shapes, depth past one limb block (512) and past two, and extreme bit patterns.
        let mut prg = rtas::protocol::prg::Prg::new(&[seed as u8; 16], seed);
        let mut a = ndarray::Array2::from_shape_vec((m, k), prg.ring(m * k)).unwrap();
        let mut b = ndarray::Array2::from_shape_vec((k, n), prg.ring(k * n)).unwrap();
        if ones & 1 == 1 { a.fill(u64::MAX); }
        if ones & 2 == 2 { b.mapv_inplace(|v| v | (1 << 63)); }
        let want = rtas::protocol::kernel::matmul_u64_naive(a.view(), b.view());
        for path in rtas::protocol::kernel::paths() {
            prop_assert_eq!(&rtas::protocol::kernel::matmul_u64_on(path, a.view(), b.view()).unwrap(), &want, "{}", path);
        }
    }
}

#[test]
fn ring_paths_do_not_depend_on_the_thread_count() {
    let mut prg = rtas::protocol::prg::Prg::new(&[3; 16], 0);
    let (m, k, n) = (700, 1100, 33);
    let a = ndarray::Array2::from_shape_vec((m, k), prg.ring(m * k)).unwrap();
    let b = ndarray::Array2::from_shape_vec((k, n), prg.ring(k * n)).unwrap();
    for path in rtas::protocol::kernel::paths() {
        let on = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| rtas::protocol::kernel::matmul_u64_on(path, a.view(), b.view()).unwrap())
        };
        assert_eq!(on(1), on(3), "{path}");
    }
}

/// Shares `inputs` from the owner, applies `fs` through FSS gates (the one-round DCF gate), opens the results.
fn fss_run(
    seed: u64,
    x: &ArrayD<f64>,
    fs: &[rtas::protocol::functions::Activation],
) -> ProtocolRun<Vec<Option<ArrayD<f64>>>> {
    fss_run_with(seed, x, fs, FssGate::Dcf)
}

/// [`fss_run`] through the gate `gate`.
fn fss_run_with(
    seed: u64,
    x: &ArrayD<f64>,
    fs: &[rtas::protocol::functions::Activation],
    gate: FssGate,
) -> ProtocolRun<Vec<Option<ArrayD<f64>>>> {
    fss_run_bits(seed, x, fs, gate, None)
}

/// [`fss_run_with`] comparing values of `value_bits` signed bits (`None`: the full width).
fn fss_run_bits(
    seed: u64,
    x: &ArrayD<f64>,
    fs: &[rtas::protocol::functions::Activation],
    gate: FssGate,
    value_bits: Option<u32>,
) -> ProtocolRun<Vec<Option<ArrayD<f64>>>> {
    use rtas::protocol::nonlinear::{self, Via};
    let shape = x.shape().to_vec();
    let owned = BTreeMap::from([(Role::Owner, vec![x.clone()])]);
    run_protocol(&RingArith::default(), &ROLES, seed, true, owned, |p, mine: Vec<ArrayD<f64>>| {
        p.stage(Stage::Input);
        let xs = io::share_from(p, Role::Owner, mine.first(), &shape, &Stage::Input.at("x"))?;
        p.stage(Stage::Op);
        p.set_fss_gate(gate);
        p.set_value_bits(value_bits);
        let outs = nonlinear::apply(p, Via::Fss, &xs, fs, &at(""))?;
        p.stage(Stage::Output);
        let mut opened = Vec::new();
        for (i, o) in outs.iter().enumerate() {
            opened.push(io::open(p, o, &Stage::Output.at(format!("o{i}")))?);
        }
        Ok(opened)
    })
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, .. ProptestConfig::default() })]

    #[test]
    fn fss_gates_within_their_spline_error(r in 1usize..6, c in 1usize..9, seed in 0u64..1000, scale in 0.1f64..12.0) {
        use rtas::protocol::functions::Activation::*;
        use rtas::protocol::fss::gates::max_error;
        let x = data(&[r, c], seed, scale);
        let fs = [Relu, ReluGrad, Sigmoid, SigmoidGrad];
        for gate in [FssGate::Dcf, FssGate::Dpf] {
            let run = fss_run_with(seed, &x, &fs, gate);
            let got = &run.outputs[&Role::P0];
            for (i, f) in fs.iter().enumerate() {
                let want = x.mapv(|v| f.eval(v));
                // The spline's own error, the input's rounding (slope <= 1: ULP/2) and one truncation (ULP).
                let bound = max_error(*f, 16) + 2.0 * ULP;
                let err = max_diff(got[i].as_ref().unwrap(), &want);
                prop_assert!(err <= bound, "{:?} by {:?}: error {} above {}", f, gate, err, bound);
            }
            prop_assert_eq!(run.truncation.failures, 0);
        }
    }
}

#[test]
fn fss_ledger_is_one_round_two_elements_online_and_keys_offline() {
    use rtas::protocol::functions::Activation::*;
    let n = 5 * 7;
    let run = fss_run(3, &data(&[5, 7], 3, 2.0), &[Relu, ReluGrad]);
    let t = traffic_where(&run.recording, |e| e.label.stage == Stage::Op);
    let b = |elems: usize| 8 * elems as u64;
    assert_eq!((t.bytes(Phase::Online, Role::P0, Role::P1), t.bytes(Phase::Online, Role::P1, Role::P0)), (b(n), b(n)));
    assert_eq!((t.rounds, t.offline_rounds), (1, 1));
    // One key per value: 63 - f = 47 levels of 4 ring elements, 2 of packed control bits, 2 final; P1 also
    // gets its corrections of MSB(r) and MSB(r) r. 3.1 KB per value in all.
    assert_eq!(t.bytes(Phase::Offline, Role::Dealer, Role::P0), b(n * 192));
    assert_eq!(t.bytes(Phase::Offline, Role::Dealer, Role::P1), b(n * 194));
    assert_eq!(t.links().len(), 4, "nothing reaches the dealer: no helper");
}

#[test]
fn dpf_gate_ledger_is_two_rounds_and_half_the_keys() {
    use rtas::protocol::functions::Activation::*;
    let n = 5 * 7;
    let words = |n: usize| n.div_ceil(64);
    let b = |elems: usize| 8 * elems as u64;
    // Relu and its derivative share one break; sigmoid and its derivative twelve.
    for (fs, nb) in [(vec![Relu, ReluGrad], 1usize), (vec![Sigmoid, SigmoidGrad], 12)] {
        let run = fss_run_with(3, &data(&[5, 7], 3, 2.0), &fs, FssGate::Dpf);
        let t = traffic_where(&run.recording, |e| e.label.stage == Stage::Op);
        // Online: x + r (one ring element a value), then the masked bits d_k packed 64 to a word.
        let online = b(n + words(n * nb));
        assert_eq!(
            (t.bytes(Phase::Online, Role::P0, Role::P1), t.bytes(Phase::Online, Role::P1, Role::P0)),
            (online, online)
        );
        assert_eq!((t.rounds, t.offline_rounds), (2, 1));
        // One DPF key per value: 47 - 7 = 40 levels of a 2-word seed correction (a half tree: no control-bit
        // corrections), 2 words of the leaf; P1 also gets two correction words per break (rho_k and rho_k r).
        assert_eq!(t.bytes(Phase::Offline, Role::Dealer, Role::P0), b(n * 82));
        assert_eq!(t.bytes(Phase::Offline, Role::Dealer, Role::P1), b(n * (82 + 2 * nb)));
        assert_eq!(t.links().len(), 4, "nothing reaches the dealer: no helper");
    }
}

#[test]
fn a_stated_value_width_computes_the_same_with_smaller_keys_and_counts_what_falls_outside() {
    use rtas::protocol::fss::gates::max_error;
    use rtas::protocol::functions::Activation::*;
    let fs = [Relu, ReluGrad, Sigmoid, SigmoidGrad];
    let x = data(&[6, 9], 11, 12.0);
    let n = x.len();
    let b = |elems: usize| 8 * elems as u64;
    for gate in [FssGate::Dcf, FssGate::Dpf] {
        let full = fss_run_bits(5, &x, &fs, gate, None);
        // 24 signed bits at f = 16: |x| < 2^7 in reals, these values (|x| <= 12) are inside.
        let narrow = fss_run_bits(5, &x, &fs, gate, Some(24));
        let (a, c) = (&full.outputs[&Role::P0], &narrow.outputs[&Role::P0]);
        // Relu and its derivative are exact at any width: the same to the bit. The sigmoid splines within
        // their error (the shares, hence the truncation's last unit, differ).
        assert_eq!((a[0].as_ref(), a[1].as_ref()), (c[0].as_ref(), c[1].as_ref()), "{gate:?}");
        for (i, f) in fs.iter().enumerate().skip(2) {
            let err = max_diff(c[i].as_ref().unwrap(), &x.mapv(|v| f.eval(v)));
            assert!(err <= max_error(*f, 16) + 2.0 * ULP, "{f:?} by {gate:?}: {err}");
        }
        assert_eq!((full.range.value_bits, full.range.checked, full.range.outside), (48, n as u64, 0));
        assert_eq!((narrow.range.value_bits, narrow.range.checked, narrow.range.outside), (24, n as u64, 0));
        // Keys on 23 bits instead of 47.
        let keys = |run: &ProtocolRun<Vec<Option<ArrayD<f64>>>>| {
            traffic_where(&run.recording, |e| e.label.stage == Stage::Op).bytes(Phase::Offline, Role::Dealer, Role::P0)
        };
        let per_value = match gate {
            FssGate::Dcf => (rtas::protocol::fss::dcf::key_words(47), rtas::protocol::fss::dcf::key_words(23)),
            FssGate::Dpf => (rtas::protocol::fss::dpf::key_words(47), rtas::protocol::fss::dpf::key_words(23)),
        };
        assert_eq!((keys(&full), keys(&narrow)), (b(n * per_value.0), b(n * per_value.1)), "{gate:?}");
    }
    // 20 signed bits: |x - b| < 2^3 in reals for every break (relu's at 2^-16, the sigmoid's from -6 to 6).
    // Values of scale 12 fall outside; the monitor counts exactly those, and the ones inside stay right.
    let (lo, hi) = (-6.0, 6.0);
    let outside = x.iter().filter(|&&v| v - lo >= 8.0 || v - hi < -8.0).count() as u64;
    assert!(outside > 0 && outside < n as u64);
    for gate in [FssGate::Dcf, FssGate::Dpf] {
        let run = fss_run_bits(5, &x, &fs, gate, Some(20));
        assert_eq!((run.range.checked, run.range.outside), (n as u64, outside), "{gate:?}");
        let relu = run.outputs[&Role::P0][0].as_ref().unwrap();
        for (v, got) in x.iter().zip(relu.iter()) {
            if v - lo < 8.0 && v - hi >= -8.0 {
                assert!((got - v.max(0.0)).abs() <= ULP, "{gate:?}: relu({v}) = {got} inside the range");
            }
        }
    }
}

#[test]
fn dpf_gate_openings_do_not_depend_on_the_secret() {
    // Both openings are uniform whatever x: x + r's top bits, and the masked comparison bits d_k.
    for secret in [0.0, 5.0, -300.0] {
        let (mut h, mut ones, mut bits) = ([0u64; 16], 0u64, 0u64);
        for seed in 0..12 {
            let run = fss_run_with(
                seed,
                &ArrayD::from_elem(IxDyn(&[256]), secret),
                &[rtas::protocol::functions::Activation::Relu],
                FssGate::Dpf,
            );
            for v in run.recording.views[&Role::P1].of_kind(ViewKind::MaskedOpening) {
                if let Payload::Ring(a) = &v.payload {
                    if v.label.layer.ends_with("bits") {
                        ones += a.iter().map(|w| u64::from(w.count_ones())).sum::<u64>();
                        bits += 64 * a.len() as u64;
                    } else {
                        a.iter().for_each(|e| h[(e >> 60) as usize] += 1);
                    }
                }
            }
        }
        assert!(chi2_uniform(&h) < 37.7, "secret {secret}: chi2 {}", chi2_uniform(&h));
        assert_eq!(bits, 12 * 256, "one bit per value, four words a run");
        // 3072 fair bits: within 5 standard deviations (28) of half.
        assert!(ones.abs_diff(bits / 2) < 140, "secret {secret}: {ones} ones of {bits}");
    }
}

#[test]
fn fss_openings_do_not_depend_on_the_secret() {
    // What P1 receives online in an FSS gate is x + r with a uniform r: its top bits are uniform whatever x.
    for secret in [0.0, 5.0, -300.0] {
        let mut h = [0u64; 16];
        for seed in 0..12 {
            let run = fss_run(
                seed,
                &ArrayD::from_elem(IxDyn(&[256]), secret),
                &[rtas::protocol::functions::Activation::Relu],
            );
            for v in run.recording.views[&Role::P1].of_kind(ViewKind::MaskedOpening) {
                if let Payload::Ring(a) = &v.payload {
                    a.iter().for_each(|e| h[(e >> 60) as usize] += 1);
                }
            }
            assert!(
                run.recording.views[&Role::Dealer].received.iter().all(|v| v.label.stage == Stage::Setup),
                "the dealer receives nothing but setup"
            );
        }
        assert!(chi2_uniform(&h) < 37.7, "secret {secret}: chi2 {}", chi2_uniform(&h));
    }
}

#[test]
fn fss_signs_hold_across_the_range_a_product_can_reach() {
    // The comparison runs on 63 - f bits: exact for every |x| < 2^(63 - 2f) = 2^31 at f = 16, the range of
    // anything a product can output without wrapping. Probe both ends and the smallest magnitudes.
    use rtas::protocol::functions::Activation::{Relu, ReluGrad};
    let v = vec![2f64.powi(30), -(2f64.powi(30)), 30_000.0, -30_000.0, 1e-4, -1e-4, ULP, -ULP, 0.0];
    let x = ArrayD::from_shape_vec(IxDyn(&[v.len()]), v.clone()).unwrap();
    for (seed, gate) in (0..8).flat_map(|s| [(s, FssGate::Dcf), (s, FssGate::Dpf)]) {
        let run = fss_run_with(seed, &x, &[Relu, ReluGrad], gate);
        let got = &run.outputs[&Role::P0];
        let (relu, grad) = (got[0].as_ref().unwrap(), got[1].as_ref().unwrap());
        for (i, &xv) in v.iter().enumerate() {
            let want = if xv > 0.0 { xv } else { 0.0 };
            assert!((relu[i] - want).abs() <= 2.0 * ULP, "relu({xv}) = {} (seed {seed})", relu[i]);
            assert_eq!(grad[i], if xv >= ULP / 2.0 { 1.0 } else { 0.0 }, "relu'({xv}) (seed {seed})");
        }
    }
}
