//! The audit's rows for Section 3.3.1 (linking transformed rows to known ones) and Section 3.4 (identities behind
//! permuted values).

use super::*;

/// Section 3.3.1: linking held rows into a transformed, shuffled table; seed links swept.
pub(super) fn linking_3_3_1(seed: u64) -> Result<Claim> {
    let (rows, held) = (1000usize, 200usize);
    let mut c = Claim::new(
        "Section 3.3.1",
        "an attacker with part of the data faces C(n,m) m! mappings",
        format!(
            "Y = X A (A 10 x 10 Gaussian) of {rows} rows, shuffled; the attacker holds {held} rows, 2 of 10 columns"
        ),
        "a held row linked to its transformed row",
    );
    let mut paper_mappings = 0.0;
    for seeds in [0usize, 3, 6, 9, 10, 12] {
        let lk = linking::run(&linking::Linking { rows, dim: 10, outputs: 10, held, columns: 2, seeds, seed })?;
        paper_mappings = lk.paper_log10_mappings;
        let trials = held - seeds;
        let e = est(count(lk.linked, trials), trials as u64)?;
        let attack = "regression on the held columns + Hungarian assignment";
        c.attempts.push(if seeds == 0 {
            Attempt::paper_attacker(attack, e)
        } else {
            Attempt::assuming(attack, &["seed links (rows known to match)"], e).with_amount("seed links", seeds as f64)
        });
    }
    // A uniformly guessed mapping among the paper's C(n, m) m! links a given held row with probability 1/n.
    c.paper_log10_epsilon = Some(-(rows as f64).log10());
    c.paper_bound = format!(
        "1/n per row for a mapping guessed among the paper's C(n,m) m! = 10^{paper_mappings:.1} (the whole mapping: 10^-{paper_mappings:.1})"
    );
    Ok(c.judge())
}

/// Section 3.4: permuted item IDs of a user-item graph, re-identified by degree.
pub(super) fn ids_3_4(seed: u64) -> Result<Claim> {
    let items = 500;
    let dm = degree_matching::run(&degree_matching::DegreeMatching {
        users: 2000,
        items,
        per_user: 20,
        zipf: 1.0,
        noise: 0.0,
        seed,
    })?;
    let mut c = Claim::new(
        "Section 3.4",
        "permuting the IDs of a user-item matrix hides the items (the paper itself warns the graph remains)",
        format!("power-law user-item graph, 2000 users, {items} items, item IDs permuted"),
        "an item's ID re-identified",
    );
    c.paper_log10_epsilon = Some(-(items as f64).log10());
    c.paper_bound = format!(
        "1/n per item for a guessed permutation (the whole matrix: 1/{items}! = 10^{:.1})",
        dm.paper_log10_epsilon
    );
    c.attempts.push(Attempt::assuming(
        "match items by degree rank",
        &["knows every item's popularity"],
        est(count(dm.reidentified_by_degree, items), items as u64)?,
    ));
    c.attempts.push(
        Attempt::assuming(
            "degree rank refined by neighbourhoods",
            &["knows every item's popularity"],
            est(count(dm.reidentified_refined, items), items as u64)?,
        )
        .with_note("the refinement is scored against the true graph")
        .oracle(),
    );
    Ok(c.judge())
}
