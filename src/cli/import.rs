//! `rtas import FILE.onnx`: what rtas built from an ONNX export, so a user can check it before running it:
//! the layers (settings, shapes, parameters), which protocols can train or evaluate it and why not, what
//! became of every ONNX node, and the model file it is equivalent to (`--toml OUT` writes it).

use super::output::{Table, render};
use crate::error::{Error, Result, invalid};
use crate::models::graph::Net;
use crate::models::onnx;
use crate::models::secure::{self, Protocol};
use crate::models::spec::Layer;
use clap::Args;
use serde::Serialize;
use std::path::PathBuf;

/// `rtas import`.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The ONNX file (as `torch.onnx.export` writes it).
    #[arg(value_name = "FILE.onnx")]
    pub file: PathBuf,
    /// Also write the equivalent model file (layers and loss, TOML; the weights stay in the ONNX file).
    #[arg(long, value_name = "OUT")]
    pub toml: Option<PathBuf>,
}

/// One layer as rtas built it.
#[derive(Debug, Serialize)]
struct LayerRow {
    index: usize,
    name: String,
    kind: String,
    settings: String,
    input: Vec<usize>,
    output: Vec<usize>,
    params: usize,
}

/// What one protocol can do with the model.
#[derive(Debug, Serialize)]
struct ProtocolRow {
    protocol: String,
    /// `train`, `evaluate` (the imported weights only) or `no`.
    can: String,
    /// Why not (empty when it trains).
    why: String,
}

#[derive(Debug, Serialize)]
struct ImportReport {
    file: String,
    input: Vec<usize>,
    outputs: usize,
    loss: String,
    params: usize,
    layers: Vec<LayerRow>,
    protocols: Vec<ProtocolRow>,
    nodes: Vec<onnx::NodeNote>,
    toml: String,
}

fn settings(l: &Layer) -> String {
    let hw = |s: crate::models::spec::Size| {
        let (h, w) = s.hw();
        format!("{h}x{w}")
    };
    match *l {
        Layer::Dense { units } => format!("{units} units"),
        Layer::Conv2d { filters, kernel, stride, padding } => {
            format!("{filters} filters {}, stride {stride}, padding {padding}", hw(kernel))
        }
        Layer::Avgpool { .. } | Layer::Maxpool { .. } => match l.window() {
            Some((w, p)) if p > 0 => format!("{}x{}, stride {}, padding {p} (counted)", w.kh, w.kw, w.sh),
            Some((w, _)) => format!("{}x{}, stride {}", w.kh, w.kw, w.sh),
            None => String::new(),
        },
        Layer::Relu | Layer::Sigmoid | Layer::Flatten => String::new(),
    }
}

/// What each protocol can do with `net`.
fn protocols(net: &Net) -> Vec<ProtocolRow> {
    let row = |name: &str, can: &str, why: String| ProtocolRow { protocol: name.into(), can: can.into(), why };
    let mut out = vec![row("plain", "train", String::new()), row("dp-sgd", "train", String::new())];
    for p in [Protocol::Rtas, Protocol::RtasFast, Protocol::Mpc] {
        out.push(match (secure::check(net, p, true), secure::check(net, p, false)) {
            (Ok(()), _) => row(p.name(), "train", String::new()),
            (Err(e), Ok(())) => row(p.name(), "evaluate", e.detail()),
            (Err(e), Err(_)) => row(p.name(), "no", e.detail()),
        });
    }
    out
}

/// Runs `rtas import`.
pub fn run(a: ImportArgs, json: bool) -> Result<String> {
    let is_onnx = a.file.extension().is_some_and(|e| e.eq_ignore_ascii_case("onnx"));
    if !is_onnx {
        return Err(invalid(format!("{}: rtas import reads .onnx files", a.file.display())));
    }
    let (net, nodes) = Net::read_noting(&a.file)?;
    let plan = net.layers();
    let layers = plan
        .iter()
        .enumerate()
        .map(|(i, p)| LayerRow {
            index: i + 1,
            name: p.name.clone(),
            kind: p.layer.kind().into(),
            settings: settings(&p.layer),
            input: p.input.clone(),
            output: p.output.clone(),
            params: p.params.iter().map(|s| s.iter().product::<usize>()).sum(),
        })
        .collect();
    let body = toml::to_string(&net.spec).map_err(|e| invalid(format!("writing the model file: {e}")))?;
    let toml = format!(
        "# The layers and loss rtas imported from {}.\n# The weights stay in that file: --model with it \
         starts from them, this file from a random draw.\n{body}",
        a.file.display()
    );
    if let Some(out) = &a.toml {
        std::fs::write(out, &toml).map_err(|e| Error::Io { path: out.clone(), source: e })?;
    }
    let report = ImportReport {
        file: a.file.display().to_string(),
        input: net.spec.input.clone(),
        outputs: net.outputs(),
        loss: format!(
            "{} ({})",
            match net.spec.loss.kind {
                crate::models::spec::LossKind::Mse => "mse",
                crate::models::spec::LossKind::SoftmaxCrossEntropy => "softmax-cross-entropy",
            },
            net.spec.loss.target
        ),
        params: net.spec.param_count()?,
        layers,
        protocols: protocols(&net),
        nodes,
        toml,
    };
    render(&report, json, |r| {
        let mut t = Table::new(&["#", "layer", "kind", "settings", "input", "output", "parameters"]);
        for l in &r.layers {
            t.row(&[
                l.index.to_string(),
                l.name.clone(),
                l.kind.clone(),
                l.settings.clone(),
                format!("{:?}", l.input),
                format!("{:?}", l.output),
                l.params.to_string(),
            ]);
        }
        let p: Vec<String> = r
            .protocols
            .iter()
            .map(|row| match row.can.as_str() {
                "train" => format!("  {:<10} trains and evaluates", row.protocol),
                "evaluate" => format!(
                    "  {:<10} evaluates the imported weights (--max-steps 0); to train: {}",
                    row.protocol, row.why
                ),
                _ => format!("  {:<10} cannot run it: {}", row.protocol, row.why),
            })
            .collect();
        let width = r.nodes.iter().map(|n| n.name.chars().count() + n.op.len() + 3).max().unwrap_or(0);
        let n: Vec<String> = r
            .nodes
            .iter()
            .enumerate()
            .map(|(i, node)| {
                format!("  {:>3}  {:<width$}  {}", i + 1, format!("{} ({})", node.name, node.op), node.became)
            })
            .collect();
        format!(
            "import {}: input {:?}, {} outputs, loss {}, {} parameters (the file's weights)\n\n{}\n\n{}\n\n\
             ONNX nodes ({}):\n{}\n\nthe equivalent model file{}:\n{}",
            r.file,
            r.input,
            r.outputs,
            r.loss,
            r.params,
            t.render(),
            p.join("\n"),
            r.nodes.len(),
            n.join("\n"),
            a.toml.as_ref().map_or(String::new(), |o| format!(" (written to {})", o.display())),
            r.toml.trim_end()
        )
    })
}
