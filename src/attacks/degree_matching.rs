//! Re-identification by degree (the paper's own Section 3.4 example): a user-item interaction matrix whose
//! user and item IDs were randomly permuted. The permutation hides the IDs (1/n! for the matrix as numbers)
//! but not the graph: an attacker who knows approximately how popular each item is (its degree, with
//! relative noise) matches items by degree rank, then refines with each item's neighbourhood: the sorted
//! degrees of the users who interacted with it.

use crate::error::{Result, invalid, non_negative};
use crate::rng::stream;
use rand::RngExt;
use rand::seq::SliceRandom;
use rand_distr::StandardNormal;
use serde::Serialize;

/// Settings.
#[derive(Debug, Clone)]
pub struct DegreeMatching {
    /// Users.
    pub users: usize,
    /// Items.
    pub items: usize,
    /// Interactions per user (average).
    pub per_user: usize,
    /// Zipf exponent of item popularity.
    pub zipf: f64,
    /// Relative noise of the attacker's degree knowledge (0 = exact).
    pub noise: f64,
    /// Seed.
    pub seed: u64,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct DegreeMatchingReport {
    /// Items.
    pub items: usize,
    /// Interactions.
    pub interactions: usize,
    /// Noise of the attacker's knowledge.
    pub noise: f64,
    /// Items whose degree no other item shares.
    pub unique_degree_items: usize,
    /// Share of items re-identified by degree rank.
    pub reidentified_by_degree: f64,
    /// Share of items with a unique degree re-identified by degree rank.
    pub reidentified_unique: f64,
    /// Share of items re-identified after neighbourhood refinement. ORACLE: the signature of the true items
    /// is computed from the true graph, which the attacker does not hold.
    #[serde(rename = "oracle_reidentified_refined")]
    pub reidentified_refined: f64,
    /// log10 of 1/items!, what Theorem 3.4 would promise for the item IDs.
    pub paper_log10_epsilon: f64,
}

/// A synthetic power-law bipartite graph: each user picks `per_user` distinct items with probability
/// proportional to `1 / rank^zipf`. Returns each item's set of users.
pub fn synthetic(users: usize, items: usize, per_user: usize, zipf: f64, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = stream(seed, 505);
    let weights: Vec<f64> = (1..=items).map(|r| 1.0 / (r as f64).powf(zipf)).collect();
    let total: f64 = weights.iter().sum();
    let cdf: Vec<f64> = weights
        .iter()
        .scan(0.0, |s, w| {
            *s += w / total;
            Some(*s)
        })
        .collect();
    let mut item_users = vec![Vec::new(); items];
    for u in 0..users {
        let mut chosen = std::collections::BTreeSet::new();
        let want = per_user.min(items);
        let mut tries = 0;
        while chosen.len() < want && tries < 50 * want {
            let r: f64 = rng.random();
            chosen.insert(cdf.partition_point(|&c| c < r).min(items - 1));
            tries += 1;
        }
        for i in chosen {
            item_users[i].push(u);
        }
    }
    item_users
}

/// Runs the attack.
pub fn run(cfg: &DegreeMatching) -> Result<DegreeMatchingReport> {
    crate::cancel::check()?;
    if cfg.users == 0 || cfg.items < 2 || cfg.per_user == 0 {
        return Err(invalid("--users, --per-user must be at least 1 and --items at least 2"));
    }
    if !non_negative(cfg.noise) || !non_negative(cfg.zipf) {
        return Err(invalid("--noise and --zipf must be zero or positive"));
    }
    super::metrics::check_elems("--users x --per-user", &[cfg.users, cfg.per_user])?;
    super::metrics::check_elems("--items", &[cfg.items])?;
    if cfg.per_user > cfg.items {
        // Each user consumes distinct items: more than there are cannot be drawn (refused, not clamped).
        return Err(invalid(format!("--per-user {} exceeds the {} items", cfg.per_user, cfg.items)));
    }
    let graph = synthetic(cfg.users, cfg.items, cfg.per_user, cfg.zipf, cfg.seed);
    let n = cfg.items;
    let mut rng = stream(cfg.seed, 506);
    // The release: items and users under secret permutations.
    let mut item_perm: Vec<usize> = (0..n).collect();
    item_perm.shuffle(&mut rng);
    let mut user_perm: Vec<usize> = (0..cfg.users).collect();
    user_perm.shuffle(&mut rng);
    // released[j] = users (permuted) of true item item_perm[j].
    let released: Vec<Vec<usize>> =
        item_perm.iter().map(|&i| graph[i].iter().map(|&u| user_perm[u]).collect()).collect();
    let deg_true: Vec<usize> = graph.iter().map(Vec::len).collect();
    let deg_rel: Vec<usize> = released.iter().map(Vec::len).collect();
    // The attacker's knowledge: true item degrees with multiplicative noise.
    let known: Vec<f64> =
        deg_true.iter().map(|&d| d as f64 * (1.0 + cfg.noise * rng.sample::<f64, _>(StandardNormal))).collect();
    // Rank matching: k-th most popular known item <-> k-th highest released degree.
    let mut by_known: Vec<usize> = (0..n).collect();
    by_known.sort_by(|&a, &b| known[b].total_cmp(&known[a]));
    let mut by_rel: Vec<usize> = (0..n).collect();
    by_rel.sort_by(|&a, &b| deg_rel[b].cmp(&deg_rel[a]));
    let mut guess = vec![0usize; n]; // released index -> true item
    for (k, &j) in by_rel.iter().enumerate() {
        guess[j] = by_known[k];
    }
    let mut count = std::collections::HashMap::new();
    for &d in &deg_true {
        *count.entry(d).or_insert(0usize) += 1;
    }
    let unique: Vec<usize> = (0..n).filter(|&i| count[&deg_true[i]] == 1).collect();
    let correct = |g: &[usize]| (0..n).filter(|&j| g[j] == item_perm[j]).count();
    let by_degree = correct(&guess);
    let unique_ok = (0..n).filter(|&j| count[&deg_true[item_perm[j]]] == 1 && guess[j] == item_perm[j]).count();
    // Refinement: within each group of equal released degree, order by the sum of the degrees of the
    // items co-consumed by the item's users (a neighbourhood signature computable on both sides once the
    // degree ranks are matched).
    let user_deg_rel = {
        let mut d = vec![0usize; cfg.users];
        for us in &released {
            for &u in us {
                d[u] += 1;
            }
        }
        d
    };
    let user_deg_true = {
        let mut d = vec![0usize; cfg.users];
        for us in &graph {
            for &u in us {
                d[u] += 1;
            }
        }
        d
    };
    let sig = |users: &[usize], ud: &[usize]| users.iter().map(|&u| ud[u] as f64).sum::<f64>();
    // The attacker knows item popularity; with it the neighbourhood signature of a true item is its users'
    // activity, which it estimates from the release itself (user degrees are permutation-invariant too).
    let mut refined = guess.clone();
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = std::collections::BTreeMap::new();
    for (j, &d) in deg_rel.iter().enumerate() {
        groups.entry(d).or_default().push(j);
    }
    for (_, js) in groups {
        if js.len() < 2 {
            continue;
        }
        let mut cands: Vec<usize> = js.iter().map(|&j| guess[j]).collect();
        let mut rel_sorted = js.clone();
        rel_sorted.sort_by(|&a, &b| sig(&released[a], &user_deg_rel).total_cmp(&sig(&released[b], &user_deg_rel)));
        cands.sort_by(|&a, &b| sig(&graph[a], &user_deg_true).total_cmp(&sig(&graph[b], &user_deg_true)));
        for (j, i) in rel_sorted.into_iter().zip(cands) {
            refined[j] = i;
        }
    }
    Ok(DegreeMatchingReport {
        items: n,
        interactions: deg_true.iter().sum(),
        noise: cfg.noise,
        unique_degree_items: unique.len(),
        reidentified_by_degree: by_degree as f64 / n as f64,
        reidentified_unique: unique_ok as f64 / unique.len().max(1) as f64,
        reidentified_refined: correct(&refined) as f64 / n as f64,
        paper_log10_epsilon: crate::analysis::bounds::permutation(n as u64, None, 0)?.log10_epsilon,
    })
}
