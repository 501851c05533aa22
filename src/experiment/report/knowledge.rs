//! The report's section on attack success against knowledge.

use super::*;

/// The section: its chart drawn and saved, its text with the numbers of this run.
pub(super) fn section(cx: &mut Ctx<'_>) -> Result<Section> {
    let (out, seed, size, all) = (cx.out, cx.seed, cx.size, &cx.all);
    let files = &mut cx.files;
    let mut saved = |name: &str, chart_files: (PathBuf, PathBuf)| super::keep(files, name, chart_files);
    let ks: Vec<usize> = vec![4, 16, 64, 256, 500, 784, 1000];
    let kp = known_plaintext::run(
        &known_plaintext::KnownPlaintext {
            data: DataKind::Mnist,
            rows: if size == Size::Tiny { 1100 } else { 3000 },
            dim: 784,
            outputs: 784,
            orthogonal: false,
            known: ks,
            delta_relative: 0.07,
            seed,
        },
        Some(all),
    )?;
    let kp_pts: Vec<(f64, f64)> = kp.points.iter().map(|p| (p.known as f64, p.median_psnr.unwrap_or(0.0))).collect();
    let mut link_pts = Vec::new();
    let mut link_mappings = 0.0;
    for d in 1..=10 {
        let r = linking::run(&linking::Linking {
            rows: 1000,
            dim: 10,
            outputs: 10,
            held: 200,
            columns: d,
            seeds: 12,
            seed,
        })?;
        link_mappings = r.paper_log10_mappings;
        link_pts.push((d as f64, r.linked));
    }
    let mut dm_pts = Vec::new();
    for noise in [0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4] {
        let r = degree_matching::run(&degree_matching::DegreeMatching {
            users: 2000,
            items: 500,
            per_user: 20,
            zipf: 1.0,
            noise,
            seed,
        })?;
        dm_pts.push((noise, r.reidentified_by_degree));
    }
    // Orthogonal (distance-preserving) A on the bundled loans table: fewer known pairs than dimensions.
    let table = crate::data::table::bundled_loans()?;
    let loans = Prepared { count: table.rows, x: table.x, labels: Vec::new() };
    let ortho = known_plaintext::run(
        &known_plaintext::KnownPlaintext {
            data: DataKind::File,
            rows: 1500,
            dim: table.cols,
            outputs: table.cols,
            orthogonal: true,
            known: (1..=table.cols).collect(),
            delta_relative: 0.07,
            seed,
        },
        Some(&loans),
    )?;
    let series = |f: &dyn Fn(&known_plaintext::KnownPoint) -> Option<f64>| -> Vec<(f64, f64)> {
        ortho.points.iter().filter_map(|p| f(p).map(|v| (p.known as f64, v))).collect()
    };
    let ortho_ls = series(&|p| Some(p.success.estimate.epsilon));
    let ortho_random = series(&|p| p.orthogonal.as_ref().map(|o| o.random_map_success));
    let ortho_prior = series(&|p| p.orthogonal.as_ref().and_then(|o| o.prior_success));
    let at4 = |s: &[(f64, f64)]| s.iter().find(|p| p.0 == 4.0).map_or(f64::NAN, |p| p.1);
    let chart = LinePanels {
        title: "Attack success against the attacker's knowledge".into(),
        panels: vec![
            LinePanel {
                title: "known-plaintext, MNIST, secret 784x784 A".into(),
                x_label: "known rows K".into(),
                y_label: "median PSNR of other rows (dB)".into(),
                log_x: true,
                series: vec![Series {
                    label: "linear decoder".into(),
                    points: kp_pts.clone(),
                    color: 0,
                    ..Default::default()
                }],
                legend: Corner::UpperLeft,
                ..Default::default()
            },
            LinePanel {
                title: "linking 200 held rows among 1000 (12 seed links)".into(),
                x_label: "raw columns held d' (of 10)".into(),
                y_label: "share of rows linked".into(),
                y_range: Some((0.0, 1.05)),
                series: vec![Series {
                    label: "regression + Hungarian".into(),
                    points: link_pts.clone(),
                    color: 1,
                    ..Default::default()
                }],
                ..Default::default()
            },
            LinePanel {
                title: "degree matching, 500 items".into(),
                x_label: "relative noise in known item popularity".into(),
                y_label: "share of items re-identified".into(),
                y_range: Some((0.0, 0.5)),
                series: vec![Series {
                    label: "rank matching".into(),
                    points: dm_pts.clone(),
                    color: 2,
                    ..Default::default()
                }],
                legend: Corner::UpperRight,
                ..Default::default()
            },
            LinePanel {
                title: format!("orthogonal A, loans table ({} columns), 7% error", ortho.dim),
                x_label: "known pairs K".into(),
                y_label: "share of other rows within 7%".into(),
                y_range: Some((0.0, 1.05)),
                series: vec![
                    Series {
                        label: "least squares (= span)".into(),
                        points: ortho_ls.clone(),
                        color: 0,
                        ..Default::default()
                    },
                    Series {
                        label: "random consistent map (Giannella et al.)".into(),
                        points: ortho_random.clone(),
                        color: 1,
                        ..Default::default()
                    },
                    Series {
                        label: "span + norm + prior".into(),
                        points: ortho_prior.clone(),
                        color: 2,
                        ..Default::default()
                    },
                ],
                legend: Corner::UpperLeft,
                ..Default::default()
            },
        ],
        columns: 2,
        size: (1300, 1000),
    };
    saved("knowledge", save(out, "knowledge", &chart)?);
    let section = Section {
        name: "knowledge",
        title: "Attack success against attacker knowledge",
        text: format!(
            "Top left: a linear decoder fitted on K known (row, image) pairs; at K = 784 the secret map is identified and \
             every other digit comes back exactly (PSNR capped at 100 dB; median {:.1} dB at K = 784). Top right: the paper \
             counts C(1000, 200) 200! = 10^{link_mappings:.1} mappings for linking; with 12 seed links, two raw columns \
             link {:.1}% of the held rows. Bottom left: with exact item popularity {:.1}% of the items are re-identified by \
             degree alone; the attack degrades with the noise of the attacker's knowledge. Bottom right: a secret \
             orthogonal (distance-preserving) map of the loans table, K known pairs: inner products and norms survive, \
             so K < {} pairs already give x's projection on their span and the norm of the rest; with a prior from \
             {} public rows, {:.0}% of the other rows come back within 7% from 4 pairs (least squares {:.0}%, \
             Giannella et al.'s random consistent map {:.0}%).",
            kp_pts.iter().find(|p| p.0 == 784.0).map_or(f64::NAN, |p| p.1),
            100.0 * link_pts.iter().find(|p| p.0 == 2.0).map_or(f64::NAN, |p| p.1),
            100.0 * dm_pts.first().map_or(f64::NAN, |p| p.1),
            ortho.dim,
            ortho.public_rows,
            100.0 * at4(&ortho_prior),
            100.0 * at4(&ortho_ls),
            100.0 * at4(&ortho_random)
        ),
        command: "rtas attack known-plaintext [--orthogonal --data-file data/tabular/loans.csv --label default --rows 1500]; \
                  rtas attack linking; rtas attack degree-matching"
            .into(),
    };
    Ok(section)
}
