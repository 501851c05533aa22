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
    split_table(crate::data::table::read_table(file, label)?, standardize)
}

/// An error naming the first value of `table` that is not a finite number (row and column 1-based).
pub fn finite(table: &crate::data::table::Table) -> Result<()> {
    match table.x.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(invalid(format!(
            "row {}, column {}: {} is not a finite number",
            i / table.cols.max(1) + 1,
            i % table.cols.max(1) + 1,
            table.x[i]
        ))),
        None => Ok(()),
    }
}

/// A table's rows with their labels (an error if it has none).
fn rows_of(table: crate::data::table::Table) -> Result<crate::experiment::custom::Rows> {
    finite(&table)?;
    let labels = table.labels.ok_or_else(|| invalid("--label is needed to train"))?;
    if labels.len() != table.rows || table.x.len() != table.rows * table.cols {
        return Err(invalid(format!(
            "{} labels and {} values for {} rows of {} features",
            labels.len(),
            table.x.len(),
            table.rows,
            table.cols
        )));
    }
    if let Some(i) = labels.iter().position(|v| !v.is_finite()) {
        return Err(invalid(format!("row {}: label {} is not a finite number", i + 1, labels[i])));
    }
    Ok(crate::experiment::custom::Rows { count: table.rows, dim: table.cols, x: table.x, labels })
}

/// A table cut 80/20 into train and test rows, as [`table_split`] cuts a file.
pub fn split_table(
    table: crate::data::table::Table,
    standardize: bool,
) -> Result<(crate::experiment::custom::Rows, crate::experiment::custom::Rows)> {
    use crate::experiment::custom::Rows;
    let all = rows_of(table)?;
    let cut = all.count * 4 / 5;
    if cut == 0 || cut == all.count {
        return Err(invalid(format!("{} rows cannot be split 80/20 into train and test", all.count)));
    }
    let d = all.dim;
    let part = |from: usize, to: usize| Rows {
        count: to - from,
        dim: d,
        x: all.x[from * d..to * d].to_vec(),
        labels: all.labels[from..to].to_vec(),
    };
    Ok(standardized((part(0, cut), part(cut, all.count)), standardize))
}

/// A user's table in place of the bundled digits (`simulate`, `attack decoder`): a file and its labels, or
/// rows given in memory by the Python package.
#[derive(Debug, Args)]
pub struct TableArgs {
    /// A table to use instead of the MNIST digits: CSV with a header or .npy features; the first 80% of the
    /// rows train, the rest test (the decoder's public rows under --aux public). The secure protocols need
    /// integer class labels.
    #[arg(long, value_name = "FILE")]
    pub data_file: Option<PathBuf>,
    /// The label column of --data-file (CSV), or a .npy file of labels (one per row).
    #[arg(long, value_name = "COLUMN|FILE", requires = "data_file")]
    pub label: Option<String>,
    /// Scale every feature of --data-file to mean 0 and variance 1 (statistics of the training rows).
    #[arg(long, requires = "data_file")]
    pub standardize: bool,
    /// Rows given in memory in place of `--data-file` and `--label` (the Python package's arrays: one table
    /// cut 80/20, or train and test as given).
    #[arg(skip)]
    pub in_memory: Option<Box<super::InMemory>>,
}

impl TableArgs {
    /// Whether a table was given (else the command uses the digits).
    pub fn given(&self) -> bool {
        self.data_file.is_some() || self.in_memory.is_some()
    }

    /// Train and test rows: those given in memory (taken, not copied), or `--data-file` cut 80/20 with
    /// `--label`'s labels (both standardized with `--standardize`).
    pub fn split(&mut self) -> Result<(crate::experiment::custom::Rows, crate::experiment::custom::Rows)> {
        if let Some(m) = self.in_memory.take() {
            return in_memory_split(*m, self.standardize);
        }
        let file = self.data_file.as_ref().ok_or_else(|| invalid("no --data-file"))?;
        if self.label.is_none() {
            return Err(invalid("--data-file needs --label (the CSV column, or a .npy file, of labels)"));
        }
        table_split(file, self.label.as_deref(), self.standardize)
    }
}

/// Train and test rows from tables given in memory: one cut 80/20 as `--data-file` is, or two as given.
pub fn in_memory_split(
    data: super::InMemory,
    standardize: bool,
) -> Result<(crate::experiment::custom::Rows, crate::experiment::custom::Rows)> {
    match data {
        super::InMemory::Table(t) => split_table(t, standardize),
        super::InMemory::Split(tr, te) => given_split((tr, te), standardize),
    }
}

/// Train and test tables given apart (standardized by the training rows' statistics with `standardize`).
pub fn given_split(
    (train, test): (crate::data::table::Table, crate::data::table::Table),
    standardize: bool,
) -> Result<(crate::experiment::custom::Rows, crate::experiment::custom::Rows)> {
    let (train, test) = (rows_of(train)?, rows_of(test)?);
    if train.count == 0 || test.count == 0 {
        return Err(invalid("the train and test sets need at least one row each"));
    }
    if train.dim != test.dim {
        return Err(invalid(format!("train rows have {} features, test rows {}", train.dim, test.dim)));
    }
    Ok(standardized((train, test), standardize))
}

/// Every column shifted and scaled by the training rows' mean and standard deviation (a constant column by 1).
fn standardized(
    (mut train, mut test): (crate::experiment::custom::Rows, crate::experiment::custom::Rows),
    standardize: bool,
) -> (crate::experiment::custom::Rows, crate::experiment::custom::Rows) {
    if standardize {
        let d = train.dim;
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
    (train, test)
}
