//! The audit's rows for Theorem 3.4 (random permutations): one vector as the theorem states it, and the
//! data-release setting in which the paper uses it.

use super::*;

/// The 784 byte values of digit `i`.
pub(super) fn digit_bytes(all: &Prepared, i: usize) -> Vec<u8> {
    all.x[i * 784..(i + 1) * 784].iter().map(|&v| (v * 256.0) as u8).collect()
}

/// Theorem 3.4 as stated: one vector (the 784 pixels of one digit) under a random permutation.
pub(super) fn theorem_3_4(s: &Setting) -> Result<Vec<Claim>> {
    let all = &s.all;
    let ties: Vec<f64> = (0..all.count)
        .map(|i| {
            bounds::permutation(784, Some(&bounds::value_counts(&digit_bytes(all, i))), 0).map(|b| b.log10_epsilon)
        })
        .collect::<Result<_>>()?;
    let paper = bounds::permutation(784, None, 0)?.log10_epsilon;
    let images = 1000;
    let mean_image: Vec<f64> =
        (0..784).map(|j| (0..images).map(|i| all.x[i * 784 + j]).sum::<f64>() / images as f64).collect();
    let mean_exact = (0..images).filter(|&i| all.x[i * 784..(i + 1) * 784] == mean_image[..]).count();
    let mut c = Claim::new(
        "thm-3.4",
        "Thm 3.4",
        "a random permutation of a vector of length n has 1/n! reconstructive privacy",
        format!("one MNIST digit's 784 pixels under a random permutation; the {} bundled digits", all.count),
        "the digit reconstructed exactly (every pixel in place)",
    )
    .quoting(
        "Random permutation on an vector of length n has 1/n!-reconstructive privacy. (Definition 3.1: 'Without \
         any other information, the adversary can only guess randomly.')",
        "the permuted vector only, no other information",
    );
    c.paper_log10_epsilon = Some(paper);
    c.paper_bound = "the paper's 1/784!".into();
    c.attempts.push(
        Attempt::closed_form(
            "output a random arrangement of the values seen (ties: prod(k_i!)/n!, the mean over digits)",
            &[],
            bounds::log10_mean(&ties),
        )
        .with_note(format!(
            "exact for each digit from its value counts; median digit 10^{:.1}, the most tied 10^{:.1}",
            crate::attacks::metrics::median(&ties),
            ties.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        )),
    );
    c.attempts.push(Attempt::paper_attacker("guess the mean digit", est(mean_exact as u64, images as u64)?));
    Ok(vec![c.judge()?])
}

/// Theorem 3.4 where the paper applies it: the data owner permutes its table's columns once with its
/// "private key" and releases every row (Sections 3.1, 3.3.2, 4.2.2), so many rows under one permutation are
/// what the protocol hands over.
pub(super) fn release_3_4(s: &Setting) -> Result<Vec<Claim>> {
    let images = 1000;
    let pp = s.shared.pixel_permutation(&pixel_permutation::PixelPermutation { images, seed: s.seed }, &s.all)?;
    let r = &pp.report;
    let mut c = Claim::new(
        "thm-3.4-release",
        "Thm 3.4, data release (Sections 3.1, 3.3.2, 4.2.2)",
        "a table whose columns are permuted once by the data owner can be released: the permutation is its \
         private key",
        format!("the 784 pixel columns of {images} MNIST digits under one secret permutation, every row released"),
        "a digit reconstructed exactly (every pixel in place)",
    )
    .quoting(
        "After appropriate random transformations, the data can be securely revealed to third party, then the \
         third party can fit a model (4.2.2). The transformation can be considered as a 'private key' of data \
         owner, and shall be secure (3.3.2). The only information exposed is the entries of the data table (3.1).",
        "every row of the released table, permuted by one key (what the protocol hands over)",
    );
    c.paper_log10_epsilon = Some(r.paper_log10_epsilon);
    c.paper_bound = "the paper's 1/784! (Thm 3.4)".into();
    let note = |l: &pixel_permutation::LayoutScore| {
        format!(
            "{:.1}% of informative pixels placed exactly, {:.1}% within one; median PSNR {:.1} dB; the symmetry of \
             the square chosen from the mean of {} public digits{}",
            100.0 * l.exact,
            100.0 * l.within_one,
            l.median_psnr,
            r.public_images,
            if l.orientation_chosen_right { "" } else { " (chosen wrong)" }
        )
    };
    c.attempts.push(
        Attempt::assuming(
            "layout from pixel correlations (previous: Isomap + Hungarian snap)",
            &["public digits (to choose the square's orientation)"],
            est(count(r.previous.pixel_perfect, images), images as u64)?,
        )
        .with_note(note(&r.previous)),
    );
    c.attempts.push(
        Attempt::assuming(
            "layout from partial correlations (quadratic assignment: grown lattices, swaps, shifts, annealing)",
            &["public digits (to choose the square's orientation)"],
            est(count(r.attack.pixel_perfect, images), images as u64)?,
        )
        .with_note(note(&r.attack)),
    );
    Ok(vec![c.judge()?])
}
