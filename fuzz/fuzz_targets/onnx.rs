//! The ONNX importer: either an error, or a model whose layers plan, whose weights have the shapes its
//! layers need, and (when small) whose forward pass runs from those weights.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(m) = rtas::models::onnx::parse(data) else { return };
    let shapes = m.spec.param_shapes().unwrap();
    assert_eq!(shapes.len(), m.params.len());
    for (s, p) in shapes.iter().zip(&m.params) {
        assert_eq!(s.as_slice(), p.shape());
        assert!(p.iter().all(|v| v.is_finite()));
    }
    let input: usize = m.spec.input.iter().product();
    let params: usize = shapes.iter().map(|s| s.iter().product::<usize>()).sum();
    if params < 20_000 && input < 5_000 {
        let outputs = m.spec.outputs().unwrap();
        let net = rtas::models::graph::Net::new(m.spec).unwrap();
        let x = ndarray::ArrayD::zeros(ndarray::IxDyn(&[2, input]));
        let y = net.predict(&m.params, &x).unwrap();
        assert_eq!(y.shape(), &[2, outputs]);
    }
});
