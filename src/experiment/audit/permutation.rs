//! The audit's rows for Theorem 3.4 (random permutations of one vector).

use super::*;

/// Theorem 3.4 on MNIST digits: one secret permutation of the 784 pixels, 1000 images under it.
pub(super) fn theorem_3_4(all: &Prepared, seed: u64) -> Result<Claim> {
    let images = 1000;
    let pp = pixel_permutation::run(&pixel_permutation::PixelPermutation { images, seed }, all)?;
    let ties: Vec<f64> = (0..all.count.min(2000))
        .map(|i| {
            let img: Vec<u8> = all.x[i * 784..(i + 1) * 784].iter().map(|&v| (v * 256.0) as u8).collect();
            bounds::permutation(784, Some(&bounds::value_counts(&img)), 0).map(|b| b.log10_epsilon)
        })
        .collect::<Result<_>>()?;
    let mean_image: Vec<f64> =
        (0..784).map(|j| (0..images).map(|i| all.x[i * 784 + j]).sum::<f64>() / images as f64).collect();
    let mean_exact = (0..images).filter(|&i| all.x[i * 784..(i + 1) * 784] == mean_image[..]).count();
    let r = &pp.report;
    let mut c = Claim::new(
        "Thm 3.4",
        "a random permutation of n values has 1/n! reconstructive privacy",
        format!("the 784 pixels of MNIST digits under one secret permutation; {images} images seen"),
        "the image reconstructed exactly (every pixel in place)",
    );
    c.paper_log10_epsilon = Some(r.paper_log10_epsilon);
    c.paper_bound = "1/784!".into();
    c.other_bounds.push(OtherBound {
        name: "an attacker with no prior over arrangements, ties of real digits: prod(k_i!)/n! (median image)".into(),
        log10_epsilon: crate::attacks::metrics::median(&ties),
    });
    c.attempts.push(Attempt::paper_attacker("guess the mean digit", est(mean_exact as u64, images as u64)?));
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
            &["1000 images under the same permutation", "public digits"],
            est(count(r.previous.pixel_perfect, images), images as u64)?,
        )
        .with_note(note(&r.previous)),
    );
    c.attempts.push(
        Attempt::assuming(
            "layout from partial correlations (quadratic assignment: grown lattices, swaps, shifts, annealing)",
            &["1000 images under the same permutation", "public digits"],
            est(count(r.attack.pixel_perfect, images), images as u64)?,
        )
        .with_note(note(&r.attack)),
    );
    Ok(c.judge())
}
