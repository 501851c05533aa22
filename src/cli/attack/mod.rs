//! `rtas attack NAME`: one attack family and its parameters (the arguments; `dispatch` runs them).

mod dispatch;

use super::output::render;
use super::progress::bar;
use crate::attacks::data::DataKind;
use crate::attacks::{
    decoder, degree_matching, float_share, helper_view, known_plaintext, known_sample, linking, pixel_permutation,
};
use crate::data::mnist;
use crate::error::Result;
use crate::experiment::simulate::{RecordedRun, record};
use crate::models::secure::Protocol;
use crate::models::{ModelKind, Prepared};
use crate::net::Role;
use crate::protocol::ring::RingArith;
use clap::{Args, Subcommand, ValueEnum};
pub use dispatch::run;
use dispatch::*;
use serde::Serialize;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DataName {
    /// Isotropic Gaussian rows (the paper's assumption).
    Gaussian,
    /// Correlated Gaussian rows (variances 0.9^i).
    Correlated,
    /// The bundled MNIST digits.
    Mnist,
}

impl DataName {
    fn kind(self) -> DataKind {
        match self {
            DataName::Gaussian => DataKind::Gaussian,
            DataName::Correlated => DataKind::Correlated,
            DataName::Mnist => DataKind::Mnist,
        }
    }
}

/// A user's table instead of generated rows or the digits.
#[derive(Debug, Args)]
pub struct FileArgs {
    /// Rows from this file instead of --data: CSV with a header (numeric columns) or NumPy .npy (rows x
    /// features), by extension.
    #[arg(long, value_name = "FILE")]
    pub data_file: Option<std::path::PathBuf>,
    /// The CSV column holding labels, left out of the features.
    #[arg(long, value_name = "COLUMN", requires = "data_file")]
    pub label: Option<String>,
    /// Rows given in memory in place of `--data-file` (the Python package's arrays; their labels unused).
    #[arg(skip)]
    pub in_memory: Option<Box<crate::cli::InMemory>>,
}

impl FileArgs {
    /// The width of generated rows: `dim` (or `default`) for `--data gaussian|correlated`; a `--dim` given
    /// with rows that have their own width (the digits, a file) is refused rather than ignored.
    fn dim(&self, data: DataName, dim: Option<usize>, default: usize) -> Result<usize> {
        let own = match (&self.data_file, data) {
            (Some(_), _) if self.in_memory.is_some() => Some("the rows given in memory".to_string()),
            (Some(path), _) => Some(format!("the rows of {}", path.display())),
            (None, DataName::Mnist) => Some("the digits (784 pixels)".to_string()),
            (None, _) => None,
        };
        match (own, dim) {
            (Some(own), Some(d)) => Err(crate::error::invalid(format!(
                "--dim {d} sets the width of generated rows (--data gaussian or correlated); {own} have their own"
            ))),
            (_, d) => Ok(d.unwrap_or(default)),
        }
    }

    /// The kind of rows and the given rows (the bundled digits for `mnist`, the file's rows for a file).
    fn given(&self, data: DataName) -> Result<(DataKind, Option<Prepared>)> {
        if let Some(m) = &self.in_memory {
            let t = m.features_only()?;
            return Ok((DataKind::File, Some(Prepared { count: t.rows, x: t.x.clone(), labels: Vec::new() })));
        }
        let Some(path) = &self.data_file else {
            let m = matches!(data, DataName::Mnist).then(mnist_all).transpose()?;
            return Ok((data.kind(), m));
        };
        if self.label.is_some() && path.extension().is_some_and(|e| e.eq_ignore_ascii_case("npy")) {
            return Err(crate::error::invalid("--label names a CSV column; an .npy file holds features only"));
        }
        let table = crate::data::table::read_table(path, self.label.as_deref())?;
        Ok((DataKind::File, Some(Prepared { count: table.rows, x: table.x, labels: Vec::new() })))
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AuxName {
    /// K victim (image, output) pairs.
    Known,
    /// Public MNIST-like images and the leaked first-layer weights.
    Public,
}

#[derive(Debug, Subcommand)]
pub enum AttackCommand {
    /// Y = X A with A secret; K known rows with their images; least squares recovers A.
    KnownPlaintext(KpArgs),
    /// Y = X A, A orthogonal; a sample from the same distribution; covariance eigenvectors matched.
    KnownSample(KsArgs),
    /// RTAS-fast: the third party decodes images from the first layer's outputs it saw.
    Decoder(DecArgs),
    /// A secret permutation of every image's pixels, undone from pixel correlations.
    PixelPermutation(PpArgs),
    /// RTAS: what the element-wise helper learns about batch labels from permuted pre-activations.
    HelperView(HvArgs),
    /// RTAS: the dealer-helper undoes the permutation from its own triple seeds (paper's helper vs rtas's).
    HelperLinking(HlArgs),
    /// A user-item graph with permuted IDs; items re-identified by degree.
    DegreeMatching(DmArgs),
    /// Shuffled, transformed rows linked to an attacker's partial columns (regression + Hungarian).
    Linking(LkArgs),
    /// The paper's float sharing: one share (or several, averaged) of x - r with Gaussian r.
    FloatShare(FsArgs),
    /// DP-SGD: the informed adversary names the one training record it was not told, from the noisy
    /// gradients, beside the reconstruction bound of the run's epsilon.
    DpReconstruction(DrArgs),
}

impl AttackCommand {
    /// The flag data given in memory stands in for, for the attacks that read a user's rows: `--images-file`
    /// for pixel-permutation, `--data-file` for known-plaintext, known-sample, decoder and linking.
    pub fn in_memory_flag(name: &str) -> Option<&'static str> {
        match name {
            "known-plaintext" | "known-sample" | "decoder" | "linking" => Some("--data-file"),
            "pixel-permutation" => Some("--images-file"),
            _ => None,
        }
    }

    /// Puts rows given in memory where the attack reads its rows (see [`Self::in_memory_flag`]).
    pub fn take_in_memory(&mut self, data: crate::cli::InMemory) -> Result<()> {
        let slot = match self {
            Self::KnownPlaintext(a) => &mut a.file.in_memory,
            Self::KnownSample(a) => &mut a.file.in_memory,
            Self::Linking(a) => &mut a.file.in_memory,
            Self::Decoder(a) => &mut a.table.in_memory,
            Self::PixelPermutation(a) => &mut a.in_memory,
            _ => {
                return Err(crate::error::invalid(
                    "in-memory data goes with the attacks known-plaintext, known-sample, decoder, linking and \
                     pixel-permutation",
                ));
            }
        };
        *slot = Some(Box::new(data));
        Ok(())
    }
}

#[derive(Debug, Args)]
pub struct DrArgs {
    /// The model trained: logreg, cnn, or a model file.
    #[arg(long, value_parser = crate::cli::simulate::parse_model, value_name = "logreg|cnn|FILE", default_value = "logreg")]
    pub model: crate::cli::simulate::ModelName,
    /// Training records besides the target (the first training digits; the attacker knows them).
    #[arg(long, allow_negative_numbers = true, default_value_t = 100)]
    pub others: usize,
    /// M: candidates for the target (held-out digits, fresh in each trial); kappa = 1/M.
    #[arg(long, allow_negative_numbers = true, default_value_t = 10)]
    pub candidates: usize,
    /// Poisson sampling rate q (1: every record in every step; the bound is then exact).
    #[arg(long, allow_negative_numbers = true, default_value_t = 1.0)]
    pub sample_rate: f64,
    /// Training steps T.
    #[arg(long, allow_negative_numbers = true, default_value_t = 10)]
    pub steps: usize,
    /// The epsilons (at --dp-delta) to calibrate the noise to, comma-separated; one row each.
    #[arg(long, allow_negative_numbers = true, value_delimiter = ',', default_value = "0.5,1,2,4,8,16")]
    pub epsilons: Vec<f64>,
    /// delta of (epsilon, delta)-DP.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1e-5)]
    pub dp_delta: f64,
    /// Clipping norm C (small: every gradient is clipped, the target's signal is C every step).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.01)]
    pub clip: f64,
    /// Learning rate.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.5)]
    pub lr: f64,
    /// Trials per epsilon.
    #[arg(long, allow_negative_numbers = true, default_value_t = 200)]
    pub trials: usize,
    /// Seed.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct KpArgs {
    /// Data rows.
    #[arg(long, value_enum, default_value = "mnist")]
    pub data: DataName,
    #[command(flatten)]
    pub file: FileArgs,
    /// Rows in the table.
    #[arg(long, allow_negative_numbers = true, default_value_t = 3000)]
    pub rows: usize,
    /// Dimension of generated rows (default 16; the digits and a file have their own).
    #[arg(long, allow_negative_numbers = true)]
    pub dim: Option<usize>,
    /// Outputs of A (ignored with --orthogonal).
    #[arg(long, allow_negative_numbers = true, default_value_t = 784)]
    pub outputs: usize,
    /// Orthogonal (distance-preserving) A.
    #[arg(long)]
    pub orthogonal: bool,
    /// Known rows to try, comma-separated.
    #[arg(long, allow_negative_numbers = true, value_delimiter = ',', default_value = "4,16,64,256,784,1000")]
    pub known: Vec<usize>,
    /// Success when the relative error is below this (Giannella et al.: 0.07).
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.07)]
    pub delta_relative: f64,
    /// Seed.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct KsArgs {
    /// Data rows.
    #[arg(long, value_enum, default_value = "mnist")]
    pub data: DataName,
    #[command(flatten)]
    pub file: FileArgs,
    /// The victim's rows.
    #[arg(long, allow_negative_numbers = true, default_value_t = 2000)]
    pub rows: usize,
    /// The attacker's own sample.
    #[arg(long, allow_negative_numbers = true, default_value_t = 5000)]
    pub sample: usize,
    /// Dimension of generated rows (default 16; the digits and a file have their own).
    #[arg(long, allow_negative_numbers = true)]
    pub dim: Option<usize>,
    /// Share of the variance whose components are matched.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.5)]
    pub energy: f64,
    /// Success threshold on the relative error.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.5)]
    pub delta_relative: f64,
    /// Seed.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct DecArgs {
    /// The model trained under RTAS-fast.
    #[arg(long, value_parser = super::simulate::parse_model, value_name = "logreg|cnn|FILE", default_value = "cnn")]
    pub model: super::simulate::ModelName,
    /// Training steps recorded (batch 32).
    #[arg(long, allow_negative_numbers = true, default_value_t = 100)]
    pub steps: usize,
    /// Known (image, output) pairs.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1000)]
    pub known: usize,
    /// The attacker's auxiliary knowledge: `known` victim pairs, or `public` images (the bundled test split)
    /// plus the first layer's weights leaked at the end of the recorded steps.
    #[arg(long, value_enum, default_value = "known")]
    pub aux: AuxName,
    /// Fit a small non-linear decoder (one hidden layer of 256, Adam) instead of the linear one.
    #[arg(long)]
    pub nonlinear: bool,
    /// Ridge strength.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1e-3)]
    pub lambda: f64,
    /// Success threshold on the relative error.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.3)]
    pub delta_relative: f64,
    /// The table to train on instead of the digits (a model that takes its columns).
    #[command(flatten)]
    pub table: crate::cli::data::TableArgs,
    /// Seed.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct PpArgs {
    /// Permuted images the attacker sees.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1000)]
    pub images: usize,
    /// Seed of the secret permutation.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1)]
    pub seed: u64,
    /// Your images instead of the bundled digits: an IDX file (raw or .gz) of square unsigned-byte images (up to 32x32),
    /// e.g. MNIST's train-images-idx3-ubyte. The images after the attacked ones are the attacker's public
    /// digits.
    #[arg(long, value_name = "FILE")]
    pub images_file: Option<std::path::PathBuf>,
    /// Images given in memory in place of `--images-file` (the Python package's arrays: one row of
    /// side x side pixels per image, any scale).
    #[arg(skip)]
    pub in_memory: Option<Box<crate::cli::InMemory>>,
    /// Keep only the centred CROP x CROP square of each image first (e.g. 24 of MNIST's 28).
    #[arg(long, value_name = "CROP", allow_negative_numbers = true)]
    pub crop: Option<usize>,
    /// Then average POOL x POOL blocks (e.g. 3: 24x24 becomes 8x8).
    #[arg(long, value_name = "POOL", allow_negative_numbers = true, default_value_t = 1)]
    pub pool: usize,
}

#[derive(Debug, Args)]
pub struct HvArgs {
    /// Training steps of logistic regression under RTAS.
    #[arg(long, allow_negative_numbers = true, default_value_t = 250)]
    pub steps: usize,
    /// Seed.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct HlArgs {
    /// Independent runs per protocol variant (one training step each).
    #[arg(long, allow_negative_numbers = true, default_value_t = 20)]
    pub runs: usize,
    /// Candidate records the attacker holds (the batch's 32 among them).
    #[arg(long, allow_negative_numbers = true, default_value_t = 200)]
    pub candidates: usize,
    /// Seed of the first run.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct DmArgs {
    /// Users.
    #[arg(long, allow_negative_numbers = true, default_value_t = 2000)]
    pub users: usize,
    /// Items.
    #[arg(long, allow_negative_numbers = true, default_value_t = 500)]
    pub items: usize,
    /// Interactions per user.
    #[arg(long, allow_negative_numbers = true, default_value_t = 20)]
    pub per_user: usize,
    /// Zipf exponent of item popularity.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1.0)]
    pub zipf: f64,
    /// Relative noise of the attacker's degree knowledge, comma-separated values to try.
    #[arg(long, allow_negative_numbers = true, value_delimiter = ',', default_value = "0,0.01,0.05,0.2")]
    pub noise: Vec<f64>,
    /// Seed.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct LkArgs {
    #[command(flatten)]
    pub file: FileArgs,
    /// Rows of the transformed table.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1000)]
    pub rows: usize,
    /// Columns of generated rows X (default 10; a file has its own).
    #[arg(long, allow_negative_numbers = true)]
    pub dim: Option<usize>,
    /// Outputs of A.
    #[arg(long, allow_negative_numbers = true, default_value_t = 10)]
    pub outputs: usize,
    /// Rows the attacker holds.
    #[arg(long, allow_negative_numbers = true, default_value_t = 200)]
    pub held: usize,
    /// Raw columns it holds, comma-separated values to try.
    #[arg(long, allow_negative_numbers = true, value_delimiter = ',', default_value = "1,2,5,10")]
    pub columns: Vec<usize>,
    /// Seed links it can tie by other means.
    #[arg(long, allow_negative_numbers = true, default_value_t = 12)]
    pub seeds: usize,
    /// Seed.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct FsArgs {
    /// Images.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1000)]
    pub images: usize,
    /// Mask standard deviation (rtas's float mode uses 10; pixels are in [0, 1)).
    #[arg(long, allow_negative_numbers = true, default_value_t = 10.0)]
    pub sigma: f64,
    /// Shares of the same image averaged (epochs), comma-separated.
    #[arg(long, allow_negative_numbers = true, value_delimiter = ',', default_value = "1,10,100,1000")]
    pub shares: Vec<usize>,
    /// Success threshold on the relative error.
    #[arg(long, allow_negative_numbers = true, default_value_t = 0.3)]
    pub delta_relative: f64,
    /// Seed.
    #[arg(long, allow_negative_numbers = true, default_value_t = 1)]
    pub seed: u64,
    /// Also record a real float-mode run (logistic regression under RTAS, rtas's sigma 10) for this many
    /// epochs and attack P1's view of it: success against the number of shares seen.
    #[arg(long, value_name = "EPOCHS", allow_negative_numbers = true)]
    pub recorded_epochs: Option<usize>,
    /// Training images of the recorded run (the first of the bundled training split).
    #[arg(long, value_name = "N", allow_negative_numbers = true, default_value_t = 320, requires = "recorded_epochs")]
    pub recorded_images: usize,
}
