//! Protocol primitives against plaintext, ledgers against their formulas.

use ndarray::{ArrayD, IxDyn};
use rtas::protocol::elementwise::{self, sigmoid, sigmoid_grad};
use rtas::protocol::party::run_protocol;
use rtas::protocol::ring::{Arith, FloatArith, RingArith};
use rtas::protocol::{beaver, io};
use rtas::sim::{Phase, Role};

fn data(shape: &[usize], seed: u64) -> ArrayD<f64> {
    let n: usize = shape.iter().product();
    ArrayD::from_shape_vec(IxDyn(shape), (0..n).map(|i| ((i as f64 + seed as f64) * 0.7).sin() * 2.0).collect())
        .unwrap()
}

const ROLES: [Role; 4] = [Role::P0, Role::P1, Role::Dealer, Role::Owner];

#[test]
fn matmul_equals_plaintext_and_its_ledger_is_the_formula() {
    let (m, k, n) = (5, 7, 3);
    let (x, w) = (data(&[m, k], 1), data(&[k, n], 2));
    let run = run_protocol(&RingArith::default(), &ROLES, 1, true, |p| {
        let xs = io::share_from(p, Role::Owner, Some(&x), &[m, k], "x")?;
        let ws = io::share_from(p, Role::Owner, Some(&w), &[k, n], "w")?;
        let (z, _) = beaver::matmul(p, &xs, &ws, false, "mm")?;
        io::open(p, &z, "z")
    })
    .unwrap();
    let got = run.outputs[&Role::P0].clone().unwrap();
    let want = x
        .clone()
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap()
        .dot(&w.clone().into_dimensionality::<ndarray::Ix2>().unwrap());
    for (a, b) in got.iter().zip(want.iter()) {
        assert!((a - b).abs() < 1e-3, "{a} vs {b}");
    }
    let led = &run.recording.ledger;
    let mm = run.recording.traffic_of("mm/");
    assert_eq!(mm.links["P0->P1"], 8 * (m * k + k * n) as u64);
    assert_eq!(mm.links["P1->P0"], 8 * (m * k + k * n) as u64);
    assert_eq!(mm.links["D->P1"], 8 * (m * n) as u64);
    assert!(!mm.links.contains_key("D->P0"));
    assert_eq!(mm.rounds, 1);
    assert!(led.iter().filter(|e| e.label == "mm/triple").all(|e| e.phase == Phase::Offline));
}

type Opened = Option<ArrayD<f64>>;

fn sigmoid_pair<A: Arith>(arith: &A, x: &ArrayD<f64>) -> (Opened, Opened) {
    let run = run_protocol(arith, &ROLES, 2, true, |p| {
        let xs = io::share_from(p, Role::Owner, Some(x), x.shape(), "x")?;
        let outs = elementwise::apply(p, &xs, &[&sigmoid, &sigmoid_grad], "act")?;
        Ok((io::open(p, &outs[0], "s")?, io::open(p, &outs[1], "g")?))
    });
    run.unwrap().outputs[&Role::P1].clone()
}

#[test]
fn sigmoid_through_the_helper() {
    let x = data(&[4, 6], 3);
    for float in [false, true] {
        let (s, g) =
            if float { sigmoid_pair(&FloatArith::default(), &x) } else { sigmoid_pair(&RingArith::default(), &x) };
        let (s, g) = (s.unwrap(), g.unwrap());
        for ((xv, sv), gv) in x.iter().zip(s.iter()).zip(g.iter()) {
            assert!((sigmoid(*xv) - sv).abs() < 1e-4);
            assert!((sigmoid_grad(*xv) - gv).abs() < 1e-4);
        }
    }
}
