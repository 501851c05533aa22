//! The audit's rows for Section 3.3.1 (linking transformed rows to known ones) and Section 3.4 (identities behind
//! permuted values).

use super::*;

/// Section 3.3.1: linking held rows into a transformed, shuffled table; seed links swept.
pub(super) fn linking_3_3_1(s: &Setting) -> Result<Vec<Claim>> {
    let (rows, held) = (1000usize, 200usize);
    let mut c = Claim::new(
        "linking-3.3.1",
        "Section 3.3.1",
        "an attacker with part of the data faces C(n,m) m! mappings",
        format!(
            "Y = X A (A 10 x 10 Gaussian) of {rows} rows, shuffled; the attacker holds {held} rows, 2 of 10 columns"
        ),
        "a held row linked to its transformed row",
    )
    .quoting(
        "The attacker have to guess the mapping from his sample to columns of transformed data Y, where there are \
         C(n,m) m! possibilities.",
        "the transformed, shuffled table and m rows of raw data with d' < d columns",
    );
    let mut paper_mappings = 0.0;
    for seeds in [0usize, 3, 6, 9, 10, 12] {
        let lk = linking::run(&linking::Linking { rows, dim: 10, outputs: 10, held, columns: 2, seeds, seed: s.seed })?;
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
        "rtas's reading: 1/n per row for a mapping guessed among the paper's C(n,m) m! = 10^{paper_mappings:.1} (the whole mapping: 10^-{paper_mappings:.1})"
    );
    Ok(vec![c.judge()?])
}

/// Section 3.4: the paper's warning that permuted item IDs of a user-item graph are re-identified by degree.
pub(super) fn ids_3_4(s: &Setting) -> Result<Vec<Claim>> {
    let items = 500;
    let dm = degree_matching::run(&degree_matching::DegreeMatching {
        users: 2000,
        items,
        per_user: 20,
        zipf: 1.0,
        noise: 0.0,
        seed: s.seed,
    })?;
    let mut c = Claim::new(
        "ids-3.4",
        "Section 3.4",
        "the naive reading the paper warns against: permuting the IDs of a user-item matrix gives an \
         exponentially small epsilon",
        format!("power-law user-item graph, 2000 users, {items} items, item IDs permuted"),
        "an item's ID re-identified",
    )
    .quoting(
        "Randomly swaps the ID of two items or consumers for multiple times, it's impossible to reconstruct the \
         original matrix. So does it achieves a 'exponentially small epsilon'-reconstructive privacy? Of course not. \
         ... by examining the degrees of each user node and item node, he can guess which item node corresponding \
         to which real item.",
        "the permuted matrix and 'some background knowledge, i.e. ... the degrees' (each item's popularity): the \
         paper's own attacker",
    )
    .as_warning();
    c.paper_log10_epsilon = Some(-(items as f64).log10());
    c.paper_bound = format!(
        "the naive reading: 1/n per item for a guessed permutation (the whole matrix: 1/{items}! = 10^{:.1})",
        dm.paper_log10_epsilon
    );
    c.attempts.push(Attempt::paper_attacker(
        "match items by degree rank (the paper's attacker: it knows every item's popularity)",
        est(count(dm.reidentified_by_degree, items), items as u64)?,
    ));
    c.attempts.push(
        Attempt::paper_attacker(
            "degree rank refined by neighbourhoods",
            est(count(dm.reidentified_refined, items), items as u64)?,
        )
        .with_note("the refinement is scored against the true graph")
        .oracle(),
    );
    Ok(vec![c.judge()?])
}
