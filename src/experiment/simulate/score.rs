//! A secure run's parties' outputs scored against the plaintext reference: accuracy, loss and batch
//! accuracy per step, final parameters.

use super::{PlainRun, SimulateReport};
use crate::error::{Result, invalid};
use crate::models::Prepared;
use crate::models::secure::{self, Plan, Protocol};
use crate::net::Role;
use ndarray::ArrayD;
use std::collections::BTreeMap;

/// Scores a secure run from its parties' outputs: accuracy, loss and batch-accuracy curves, final
/// parameters against the plaintext reference. Returns the final parameters.
pub(crate) fn score<A: crate::protocol::ring::Arith>(
    arith: &A,
    plan: &Plan<'_>,
    outputs: &BTreeMap<Role, secure::PartyOut<A::E>>,
    (train, test): (&Prepared, &Prepared),
    plain_run: &PlainRun,
    report: &mut SimulateReport,
) -> Result<Vec<ArrayD<f64>>> {
    let model = plan.model;
    let get = |r: Role| outputs.get(&r).ok_or_else(|| invalid(format!("{r} returned nothing")));
    let (o0, o1) = (get(Role::P0)?, get(Role::P1)?);
    let (yhat, losses): (Vec<ArrayD<f64>>, Vec<f64>) = match plan.protocol {
        Protocol::Rtas | Protocol::Mpc => {
            let yh = secure::reconstruct(arith, &o0.yhat_shares, &o1.yhat_shares);
            // The outputs are what the model reports (the softmax's under cross-entropy), as plaintext's.
            let losses = yh
                .iter()
                .zip(plan.schedule)
                .map(|(y, rows)| Ok(model.net().reported_loss(y, &model.targets(&train.labels_of(rows))?)))
                .collect::<Result<Vec<f64>>>()?;
            (yh, losses)
        }
        Protocol::RtasFast => {
            let t = get(Role::ThirdParty)?;
            (t.yhat_plain.clone(), t.losses.clone())
        }
    };
    report.loss_curve = losses;
    report.batch_accuracy_curve = yhat
        .iter()
        .zip(plan.schedule)
        .map(|(y, rows)| Ok(model.correct(y, &train.labels_of(rows))? as f64 / rows.len() as f64))
        .collect::<Result<Vec<f64>>>()?;
    let receiver = if plan.protocol.shares_everything() { Role::Owner } else { Role::ThirdParty };
    let preds = &get(receiver)?.predictions;
    let (mut correct, mut total) = (0, 0);
    for (k, (yh, rows)) in preds.iter().zip(plan.inference).enumerate() {
        if k == 0 {
            // Under RTAS and mpc the owner receives the last layer's outputs and applies a softmax itself.
            let shown = match (plan.protocol.shares_everything(), model.net().spec.loss.kind) {
                (true, crate::models::spec::LossKind::SoftmaxCrossEntropy) => crate::models::graph::softmax(yh),
                _ => yh.clone(),
            };
            report.first_outputs = super::plain::first_rows(&shown);
        }
        correct += model.correct(yh, &test.labels_of(rows))?;
        total += rows.len();
    }
    report.accuracy = correct as f64 / total.max(1) as f64;
    report.sharing = arith.name().into();
    // Final parameters against the plaintext reference.
    let mut params = secure::reconstruct(arith, &o0.params, &o1.params);
    if plan.protocol == Protocol::RtasFast {
        params.extend(get(Role::ThirdParty)?.tail.iter().cloned());
    }
    report.max_param_diff_vs_plain = params
        .iter()
        .zip(&plain_run.params)
        .map(|(a, b)| a.iter().zip(b.iter()).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max))
        .fold(0.0, f64::max);
    Ok(params)
}
