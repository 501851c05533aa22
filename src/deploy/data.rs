//! A party's own data, read from the source its configuration names.

use super::config::Source;
use crate::data::mnist;
use crate::error::{Result, invalid};
use crate::models::Prepared;

fn load(source: &Source) -> Result<(mnist::Dataset, mnist::Dataset)> {
    match source {
        Source::Bundled => mnist::bundled_split(),
        Source::Dir(dir) => mnist::load_dir(dir),
    }
}

/// Cuts a loaded data set to `rows`, refusing to invent any.
fn cut(d: mnist::Dataset, rows: usize, what: &str) -> Result<mnist::Dataset> {
    if rows > d.count {
        return Err(invalid(format!("job.{what}_rows = {rows}, but the data holds {} {what} images", d.count)));
    }
    Ok(d.slice(0, rows))
}

/// The owner's (train, test) images and labels, the first `rows` of each.
pub fn load_cut(source: &Source, (train_rows, test_rows): (usize, usize)) -> Result<(Prepared, Prepared)> {
    let (train, test) = load(source)?;
    let (train, test) = (cut(train, train_rows, "train")?, cut(test, test_rows, "test")?);
    Ok((Prepared::new(&train)?, Prepared::new(&test)?))
}

/// The label holder's (train, test) labels, the first `rows` of each; no images are read from a directory.
pub fn load_labels(source: &Source, (train_rows, test_rows): (usize, usize)) -> Result<(Vec<u8>, Vec<u8>)> {
    let (train, test) = match source {
        Source::Bundled => {
            let (a, b) = mnist::bundled_split()?;
            (a.labels, b.labels)
        }
        Source::Dir(dir) => mnist::load_labels_dir(dir)?,
    };
    for (n, have, what) in [(train_rows, train.len(), "train"), (test_rows, test.len(), "test")] {
        if n > have {
            return Err(invalid(format!("job.{what}_rows = {n}, but the labels hold {have} {what} labels")));
        }
    }
    Ok((train[..train_rows].to_vec(), test[..test_rows].to_vec()))
}
