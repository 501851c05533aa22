//! The report's section on permutations: 1/n! against the ties of real digits.

use super::*;

/// The section: its chart drawn and saved, its text with the numbers of this run.
pub(super) fn section(cx: &mut Ctx<'_>) -> Result<Section> {
    let (out, sc, all) = (cx.out, &cx.sc, &cx.all);
    let files = &mut cx.files;
    let mut saved = |name: &str, chart_files: (PathBuf, PathBuf)| super::keep(files, name, chart_files);
    let mut distinct = Vec::new();
    let (mut med, mut lo, mut hi) = (Vec::new(), Vec::new(), Vec::new());
    for k in 2..=28usize {
        let n = k * k;
        distinct.push((n as f64, bounds::permutation(n as u64, None, 0)?.log10_epsilon));
        let off = (28 - k) / 2;
        let mut vals = Vec::new();
        for i in 0..sc.images.min(all.count) {
            let img = &all.x[i * 784..(i + 1) * 784];
            let crop: Vec<u8> = (0..n).map(|p| (img[(off + p / k) * 28 + off + p % k] * 256.0) as u8).collect();
            vals.push(bounds::permutation(n as u64, Some(&bounds::value_counts(&crop)), 0)?.log10_epsilon);
        }
        vals.sort_by(f64::total_cmp);
        med.push((n as f64, vals[vals.len() / 2]));
        lo.push((n as f64, vals[0]));
        hi.push((n as f64, vals[vals.len() - 1]));
    }
    let last = med.last().map_or(0.0, |p| p.1);
    let distinct_log10 = bounds::permutation(784, None, 0)?.log10_epsilon;
    let chart = LinePanels {
        title: "Random permutation: 1/n! against the ties of real MNIST digits".into(),
        panels: vec![LinePanel {
            x_label: "n (pixels of a centred k x k crop)".into(),
            y_label: "log10 epsilon".into(),
            series: vec![
                Series {
                    label: "distinct values: 1/n! (Thm 3.4)".into(),
                    points: distinct,
                    color: 0,
                    ..Default::default()
                },
                Series {
                    label: format!("MNIST digits: median of {} images", sc.images),
                    points: med,
                    color: 1,
                    ..Default::default()
                },
                Series {
                    label: "MNIST: most tied image".into(),
                    points: hi,
                    dashed: true,
                    color: 2,
                    ..Default::default()
                },
                Series {
                    label: "MNIST: least tied image".into(),
                    points: lo,
                    dashed: true,
                    color: 3,
                    ..Default::default()
                },
            ],
            legend: Corner::LowerLeft,
            ..Default::default()
        }],
        columns: 1,
        size: (1000, 640),
    };
    saved("permutation", save(out, "permutation", &chart)?);
    let section = Section {
        name: "permutation",
        title: "log10 epsilon of a permutation against n",
        text: format!(
            "Theorem 3.4 prices a permutation of n values at 1/n!, which assumes distinct values. Digits have hundreds of \
             background pixels and few grey levels, so prod(k_i!)/n! is what an attacker with no prior over arrangements \
             faces: at n = 784, 10^{last:.0} for the median image instead of 10^{distinct_log10:.1}. Either number is astronomically small for one vector; the attacks \
             below show why that is not the question."
        ),
        command: "rtas bound permutation --idx data/mnist-10k/images-idx3-ubyte.gz --index 0".into(),
    };
    Ok(section)
}
