//! `--data DIR --train-size N --test-size N`, shared by the commands that train.

use crate::data::mnist;
use crate::error::{Result, invalid};
use crate::models::Prepared;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// A directory with standard MNIST IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte,
    /// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; raw or .gz). Default: the bundled 10,000 digits
    /// (first 8,000 train, last 2,000 test).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Use only the first N training images.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub train_size: Option<usize>,
    /// Use only the first N test images.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub test_size: Option<usize>,
}

impl DataArgs {
    /// (train, test), cut to the requested sizes.
    pub fn load(&self) -> Result<(Prepared, Prepared)> {
        let (train, test) = match &self.data {
            Some(dir) => mnist::load_dir(dir)?,
            None => mnist::bundled_split()?,
        };
        let cut = |d: mnist::Dataset, n: Option<usize>, what: &str| -> Result<mnist::Dataset> {
            match n {
                None => Ok(d),
                Some(0) => Err(invalid(format!("--{what}-size must be at least 1"))),
                Some(n) if n > d.count => {
                    Err(invalid(format!("--{what}-size {n} exceeds the {} {what} images", d.count)))
                }
                Some(n) => Ok(d.slice(0, n)),
            }
        };
        let train = cut(train, self.train_size, "train")?;
        let test = cut(test, self.test_size, "test")?;
        Ok((Prepared::new(&train)?, Prepared::new(&test)?))
    }
}

/// A table file cut 80/20 into train and test rows (standardized by the training rows' statistics with
/// `standardize`).
pub fn table_split(
    file: &std::path::Path,
    label: Option<&str>,
    standardize: bool,
) -> Result<(crate::experiment::custom::Rows, crate::experiment::custom::Rows)> {
    use crate::experiment::custom::Rows;
    let table = crate::data::table::read_table(file, label)?;
    let labels = table.labels.clone().ok_or_else(|| invalid("--label is needed to train"))?;
    let cut = table.rows * 4 / 5;
    if cut == 0 || cut == table.rows {
        return Err(invalid(format!("{} rows cannot be split 80/20 into train and test", table.rows)));
    }
    let part = |from: usize, to: usize| Rows {
        count: to - from,
        dim: table.cols,
        x: table.x[from * table.cols..to * table.cols].to_vec(),
        labels: labels[from..to].to_vec(),
    };
    let (mut train, mut test) = (part(0, cut), part(cut, table.rows));
    if standardize {
        let d = table.cols;
        for j in 0..d {
            let col = || train.x.iter().skip(j).step_by(d);
            let mean = col().sum::<f64>() / train.count as f64;
            let var = col().map(|v| (v - mean) * (v - mean)).sum::<f64>() / train.count as f64;
            let sd = if var > 0.0 { var.sqrt() } else { 1.0 };
            for r in [&mut train, &mut test] {
                r.x.iter_mut().skip(j).step_by(d).for_each(|v| *v = (*v - mean) / sd);
            }
        }
    }
    Ok((train, test))
}
