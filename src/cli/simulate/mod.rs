//! `rtas simulate`: any model (the paper's two, a TOML or ONNX file) under plain, rtas, rtas-fast or mpc.

use super::output::{FLOAT_SHARING_WARNING, Table, render, truncation_warning};
use super::progress::bar;
use crate::error::Result;
use crate::experiment::simulate::{self, SimulateReport, StepCost};

mod args;
pub use args::{ModelName, ProtocolName, SimulateArgs, TrainArgs, parse_gate, parse_model};

pub fn run(mut a: SimulateArgs, json: bool) -> Result<String> {
    let model = a.model.kind;
    if !model.is_paper() && matches!(a.protocol, ProtocolName::Plain) {
        return run_file(&mut a, model, json);
    }
    let mut cfg = a.config()?;
    if a.keep_views {
        if !matches!(cfg.protocol, simulate::ProtocolChoice::Secure(_)) {
            return Err(crate::error::invalid(format!(
                "views are what the roles of a secure run saw; --protocol {} has none",
                cfg.protocol.name()
            )));
        }
        cfg.record_views = true;
    }
    let (train, test) = match a.table.given() {
        true => {
            let (tr, te) = a.table.split()?;
            let prep = |r: crate::experiment::custom::Rows| crate::models::Prepared::from_rows(r.x, r.dim, &r.labels);
            (prep(tr)?, prep(te)?)
        }
        false => a.data.load()?,
    };
    let pb = bar(0, &format!("simulate {} {}", cfg.model.name(), cfg.protocol.name()));
    let out = simulate::simulate(&cfg, &train, &test, &pb)?;
    if a.keep_views {
        let views = out.recording.as_ref().map(|r| r.views.clone()).unwrap_or_default();
        VIEWS.with(|v| *v.borrow_mut() = Some(views));
    }
    render(&out.report, json, table)
}

fn kb(b: u64) -> String {
    format!("{:.1} KB", b as f64 / 1e3)
}

pub fn cost_table(title: &str, c: &StepCost) -> String {
    let mut t = Table::new(&["link", "phase", "bytes"]);
    for (&(phase, from, to), v) in &c.traffic.by_link {
        t.row(&[format!("{from}->{to}"), phase.to_string(), v.to_string()]);
    }
    let mut m = Table::new(&["network", "modeled s", "online s", "x plain"]);
    for (k, v) in &c.modeled_seconds {
        m.row(&[
            k.clone(),
            format!("{v:.6}"),
            format!("{:.6}", c.modeled_online_seconds.get(k).copied().unwrap_or(*v)),
            format!("{:.1}", c.ratio_to_plain.get(k).copied().unwrap_or(f64::NAN)),
        ]);
    }
    let compute: Vec<String> = c.compute_seconds.iter().map(|(p, s)| format!("{p} {:.2} ms", s * 1e3)).collect();
    format!(
        "{title} (batch {}): P0<->P1 {} (analytic floor {}), {} online rounds, all links {}\n{}\ncompute: {} | plaintext {:.3} ms\n{}",
        c.batch,
        kb(c.bytes_p0_p1),
        kb(c.floor_bytes_p0_p1),
        c.rounds,
        kb(c.total_bytes),
        t.render(),
        if compute.is_empty() { "-".to_string() } else { compute.join(", ") },
        c.plain_seconds * 1e3,
        m.render()
    )
}

/// The first test examples' outputs, one line each.
fn outputs_text(rows: &[Vec<f64>]) -> String {
    let mut s = String::from("outputs of the first test examples:");
    for (i, row) in rows.iter().enumerate() {
        let v: Vec<String> = row.iter().map(|x| format!("{x:.6}")).collect();
        s.push_str(&format!("\n  {}: [{}]", i + 1, v.join(", ")));
    }
    s
}

/// `mpc on the dpf gate` (`, values stated to fit 31 signed bits` with `--value-bits`), or the protocol's name.
fn protocol_label(r: &SimulateReport) -> String {
    match (&r.fss_gate, r.value_bits) {
        (Some(g), Some(k)) => format!("{} on the {g} gate, values stated to fit {k} signed bits", r.protocol),
        (Some(g), None) => format!("{} on the {g} gate", r.protocol),
        _ => r.protocol.clone(),
    }
}

pub(super) fn table(r: &SimulateReport) -> String {
    if r.steps == 0 {
        return format!(
            "evaluate {} under {} (sharing {}): the weights as they are (no training), {} test images, seed {}\n\
             test accuracy {:.2}% (plain: {:.2}%)\n{}\n\n{}",
            r.model.name(),
            protocol_label(r),
            r.sharing,
            r.test_size,
            r.seed,
            100.0 * r.accuracy,
            100.0 * r.plain_accuracy,
            outputs_text(&r.first_outputs),
            cost_table("one inference batch", &r.infer_batch)
        );
    }
    let n = r.loss_curve.len();
    let pick: Vec<usize> = if n <= 6 { (0..n).collect() } else { (0..6).map(|i| i * (n - 1) / 5).collect() };
    let curve: Vec<String> = pick.iter().map(|&i| format!("{}:{:.4}", i + 1, r.loss_curve[i])).collect();
    let plain_curve: Vec<String> = pick.iter().map(|&i| format!("{}:{:.4}", i + 1, r.plain_loss_curve[i])).collect();
    let mut s = format!(
        "simulate {} under {} (sharing {}), {} epoch(s), batch {}, lr {}, {} train / {} test images, {} steps, seed {}\n\
         test accuracy {:.2}% (plain, same init and batches: {:.2}%); largest parameter difference from plain {:.2e}\n\
         loss by step: {}\n  plain loss: {}\n\n{}",
        r.model.name(),
        protocol_label(r),
        r.sharing,
        r.epochs,
        r.batch,
        r.lr,
        r.train_size,
        r.test_size,
        r.steps,
        r.seed,
        100.0 * r.accuracy,
        100.0 * r.plain_accuracy,
        r.max_param_diff_vs_plain,
        curve.join(" "),
        plain_curve.join(" "),
        match &r.dp {
            // DP-SGD is plaintext: its step costs compute only, beside the plain step's.
            Some(_) => format!(
                "one training step (batch {}): {:.3} ms on one core, plaintext {:.3} ms: {:.2}x (no bytes, no rounds)\n\
                 one inference batch (batch {}): {:.3} ms, as plaintext",
                r.train_step.batch,
                r.train_step.compute_seconds.values().next().copied().unwrap_or(f64::NAN) * 1e3,
                r.train_step.plain_seconds * 1e3,
                r.train_step.compute_ratio,
                r.infer_batch.batch,
                r.infer_batch.plain_seconds * 1e3
            ),
            None => format!(
                "{}\n\n{}",
                cost_table("one training step", &r.train_step),
                cost_table("one inference batch", &r.infer_batch)
            ),
        }
    );
    if let Some(d) = &r.dp {
        s.push_str(&format!(
            "\n\nDP-SGD ({:?} sampling, rate {:.5}): noise multiplier {:.4}{}, clip {}, {} steps (mean batch {:.1}); \
             {:.1}% of per-example gradients clipped (median norm {:.4})\nepsilon = {:.4} at delta = {} ({}){}",
            d.sampling,
            d.sample_rate,
            d.noise_multiplier,
            d.target_epsilon.map_or(String::new(), |t| if t < 1e6 {
                format!(" (calibrated to epsilon {t})")
            } else {
                format!(" (calibrated to epsilon {t:e})")
            }),
            d.clip,
            d.steps,
            d.mean_batch,
            100.0 * d.clipped_fraction,
            d.median_norm,
            d.epsilon,
            d.delta,
            d.accountant,
            d.epsilon_rdp.map_or(String::new(), |e| format!("; RDP accountant {e:.4}"))
        ));
    }
    if let Some(o) = &r.one_time {
        s.push_str(&format!("\n\n{}", cost_table("one-time: sharing and opening the masked training set", o)));
    }
    if r.sharing.contains("INSECURE") {
        s.push_str(&format!("\n\n{}", FLOAT_SHARING_WARNING));
    }
    if r.truncation.checked > 0 {
        s.push_str(&format!(
            "\n\ntruncation failures: {} of {} truncated elements",
            r.truncation.failures, r.truncation.checked
        ));
        if let Some(w) = truncation_warning(r.truncation.failures, r.truncation.checked) {
            s.push_str(&format!("\n{w}"));
        }
    }
    if let Some(c) = &r.comparison_range
        && c.checked > 0
    {
        s.push_str(&format!(
            "\ncomparison range: {} of {} compared values outside {} signed bits (the widest needed {})",
            c.outside, c.checked, c.value_bits, c.needed_bits
        ));
        if c.outside > 0 {
            s.push_str(" — WARNING: their gates' results are wrong; raise --value-bits (or leave it out)");
        }
    }
    s
}

/// A model file that is not one of the paper's, in plaintext on MNIST or a user's table (real-valued
/// targets allowed), with the majority baseline beside its accuracy.
fn run_file(a: &mut SimulateArgs, model: crate::models::ModelKind, json: bool) -> Result<String> {
    let net = model.net();
    use crate::experiment::custom::{self, CustomConfig, Rows};
    let (train, test) = match a.table.given() {
        true => a.table.split()?,
        false => {
            let (tr, te) = a.data.load()?;
            let rows = |p: &crate::models::Prepared| Rows {
                count: p.count,
                dim: 784,
                x: p.x.clone(),
                labels: p.labels.iter().map(|&l| f64::from(l)).collect(),
            };
            (rows(&tr), rows(&te))
        }
    };
    let t = &a.train;
    let cfg = CustomConfig {
        epochs: t.epochs,
        batch: t.batch,
        lr: t.lr.unwrap_or(0.1),
        max_steps: t.max_steps,
        seed: a.seed,
    };
    let name = a.model.path.as_ref().map_or_else(|| net.name().to_string(), |p| p.display().to_string());
    let r = custom::run(model, &name, &train, &test, &cfg)?;
    render(&r, json, |r| {
        let mut t = Table::new(&["layer", "output", "parameters"]);
        for l in &r.layers {
            t.row(&[l.kind.clone(), format!("{:?}", l.output), l.params.to_string()]);
        }
        let n = r.loss_curve.len();
        let pick: Vec<usize> = if n <= 6 { (0..n).collect() } else { (0..6).map(|i| i * (n - 1) / 5).collect() };
        let curve: Vec<String> = pick.iter().map(|&i| format!("{}:{:.4}", i + 1, r.loss_curve[i])).collect();
        if r.steps == 0 {
            return format!(
                "evaluate {} in plaintext: the weights as they are (no training), {} parameters, {} test examples\n{}\n\
                 test accuracy {:.2}% (always guessing the most common target: {:.2}%)\n{}",
                r.model,
                r.params,
                r.test_size,
                t.render(),
                100.0 * r.accuracy,
                100.0 * r.majority_accuracy,
                outputs_text(&r.first_outputs)
            );
        }
        format!(
            "simulate {} in plaintext: {} parameters, {} train / {} test examples, {} steps, seed {}\n{}\n\
             test accuracy {:.2}% (always guessing the most common target: {:.2}%); loss by step: {}; median step {:.3} ms (one core)",
            r.model,
            r.params,
            r.train_size,
            r.test_size,
            r.steps,
            r.seed,
            t.render(),
            100.0 * r.accuracy,
            100.0 * r.majority_accuracy,
            curve.join(" "),
            r.step_seconds * 1e3
        )
    })
}

std::thread_local! {
    /// The views of this thread's last `simulate` run with `keep_views`.
    static VIEWS: std::cell::RefCell<Option<Views>> = const { std::cell::RefCell::new(None) };
}

/// Every role's view of a run.
pub type Views = std::collections::BTreeMap<crate::net::Role, crate::sim::record::View>;

/// The views kept by this thread's last `simulate` run with `keep_views` (taken: a second call gives None).
pub fn take_views() -> Option<Views> {
    VIEWS.with(|v| v.borrow_mut().take())
}
