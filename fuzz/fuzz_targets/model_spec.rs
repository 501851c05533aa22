//! The model-file parser and shape checker: a spec whose every layer plans, whose outputs and parameter
//! count are defined, and (when small) whose plaintext forward pass and one training step run on zeros;
//! or an error.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(spec) = rtas::models::spec::Spec::parse(text) else { return };
    let plan = spec.plan().unwrap();
    assert_eq!(plan.len(), spec.layers.len());
    let outputs = spec.outputs().unwrap();
    let params = spec.param_count().unwrap();
    let input: usize = spec.input.iter().product();
    let widest = plan.iter().map(|p| p.output.iter().product::<usize>()).max().unwrap_or(0);
    if params < 20_000 && input < 5_000 && widest < 50_000 {
        let net = rtas::models::graph::Net::new(spec).unwrap();
        let mut p = net.init(1);
        let x = ndarray::ArrayD::zeros(ndarray::IxDyn(&[2, input]));
        let y = net.predict(&p, &x).unwrap();
        assert_eq!(y.shape(), &[2, outputs]);
        let labels = vec![0.0; 2];
        let _ = net.train_step(&mut p, &x, &labels, 0.1);
    }
});
