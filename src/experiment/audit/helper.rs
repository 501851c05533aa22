//! The audit's rows for Section 4.2.1 (what the element-wise helper sees: the order of values, and the labels).

use super::*;

/// Section 4.2.1: the dealer-helper puts the permuted vector back in order.
pub(super) fn helper_order_4_2_1(s: &Setting) -> Result<Vec<Claim>> {
    let (quick, seed, data, hidden) = (s.quick, s.seed, (&s.train, &s.test), &s.hidden);
    let cfg = helper_linking::HelperLinking { runs: if quick { 10 } else { 30 }, candidates: 200, seed };
    let hl = helper_linking::run(&cfg, data.0, data.1, hidden)?;
    let mut c = Claim::new(
        "helper-order-4.2.1",
        "Section 4.2.1",
        "the helper sees only a randomly permuted vector",
        format!(
            "logistic regression under RTAS (weights start at zero), batch {}; the dealer, who is the helper, \
             attacks the first step from its own seeds and what it received; {} runs",
            hl.batch, hl.runs
        ),
        "the permuted vector put back in order, every slot's record named",
    )
    .quoting(
        "they first get a random permutation of x, denoted by x'. Then they send the x' to a third party P2 who \
         computes f(x') and shares it to P0 and P1.",
        "the permuted, reconstructed vector; in rtas's deployment the helper is also the dealer (the paper requires \
         'at least 1 semi-honest party to generate multiplication triples and doing element-wise function \
         computations')",
    );
    c.paper_log10_epsilon = Some(hl.paper_log10_epsilon);
    c.paper_bound = format!("1/{}! (Thm 3.4)", hl.batch);
    for v in &hl.variants {
        let (attack, assumptions): (&str, &[&str]) = match v.helper {
            HelperMode::Paper => (
                "re-derive P0's share for each candidate and slot (the paper's helper)",
                &["a candidate set of 200 records containing the batch", "initial weights known (zero)"],
            ),
            HelperMode::Rerandomized => (
                "the same, against rtas's re-randomized helper (not the paper's protocol)",
                &[
                    "a candidate set of 200 records containing the batch",
                    "initial weights known (zero)",
                    "rtas's fix applied",
                ],
            ),
        };
        c.attempts.push(Attempt::assuming(attack, assumptions, v.vectors_recovered).with_note(format!(
            "{:.1}% of slots linked (chance {:.1}%)",
            100.0 * v.mean_slots_linked,
            100.0 * v.chance_slots_linked
        )));
    }
    // Linking by value: the CNN starts from random weights; granted them (a public or leaked init_seed), the
    // helper alone computes every candidate's pre-activations and finds them among the values it saw.
    let vl = helper_linking::run_values(&cfg, data.0, data.1, hidden)?;
    for v in &vl.variants {
        let mut assumptions = vec![
            "a candidate set of 200 records containing the batch",
            "the CNN's initial weights known (a leaked init_seed)",
        ];
        let attack = match v.helper {
            HelperMode::Paper => {
                "link by value: every candidate's pre-activations looked up among the values seen (the CNN, the paper's helper)"
            }
            HelperMode::Rerandomized => {
                assumptions.push("rtas's fix applied");
                "the same, against rtas's re-randomized helper"
            }
        };
        c.attempts.push(Attempt::assuming(attack, &assumptions, v.batch_named).with_note(format!(
            "success: the batch's records named exactly, so every value's record: the permutation hides nothing; a batch \
             record found at least {:.1}% of its values, a record outside at most {:.1}%; logistic regression starts \
             from zero weights, so its first-step values are all the bias and there is nothing to link",
            100.0 * v.member_low,
            100.0 * v.outsider_high
        )));
    }
    Ok(vec![c.judge()?])
}

/// Section 4.2.1 with Section 4.3: what the helper's permuted values tell about the batch's labels.
pub(super) fn helper_labels_4_2_1(s: &Setting) -> Result<Vec<Claim>> {
    let (seed, data, hidden) = (s.seed, (&s.train, &s.test), &s.hidden);
    let steps = 250;
    let run = record(ModelKind::LogReg, Protocol::Rtas, steps, seed, data, hidden)?;
    let hv = helper_view::run(run.view(Role::Dealer)?, &run.schedule, data.0, &RingArith::default())?;
    let mut c = Claim::new(
        "helper-labels-4.2.1",
        "Section 4.2.1 (with 4.3)",
        "RTAS fits tasks whose labels are sensitive: the helper's permuted values keep them",
        format!(
            "logistic regression under RTAS, {} steps, batch 32; the helper counts positive pre-activations",
            hv.steps
        ),
        "the batch's number of label-0 examples guessed exactly",
    )
    .quoting(
        "(1) RTAS: Only use random transformations for non-linear functions. This method is fit for the tasks where \
         label holder do not have computation power, and the label(raw data, already without any ID) is sensitive.",
        "the permuted vector of pre-activations it reconstructs at each step",
    );
    c.paper_bound = "none stated".into();
    c.baseline = Some(Baseline {
        name: "guess the most frequent count".into(),
        success: est(count(hv.majority_guess_exact, hv.steps), hv.steps as u64)?,
    });
    c.attempts.push(
        Attempt::paper_attacker(
            "count the positive values it reconstructs",
            est(count(hv.exact_label_count, hv.steps), hv.steps as u64)?,
        )
        .with_note(format!(
            "correlation with the true count {:.2}; mean true count {:.2}; the run's truncation failures: {} of {}",
            hv.correlation, hv.mean_true_count, run.report.truncation.failures, run.report.truncation.checked
        )),
    );
    Ok(vec![c.judge()?])
}
