//! MNIST: the bundled 10,000 digits (compiled into the binary, so no path is needed) or a user's own IDX
//! files (`train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`,
//! `t10k-labels-idx1-ubyte`, raw or `.gz`).

use super::idx::{self, Idx};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

const BUNDLED_IMAGES: &[u8] = include_bytes!("../../data/mnist-10k/images-idx3-ubyte.gz");
const BUNDLED_LABELS: &[u8] = include_bytes!("../../data/mnist-10k/labels-idx1-ubyte.gz");

/// Images of the bundled set used for training; the rest (2,000) are the test split.
pub const BUNDLED_TRAIN: usize = 8_000;

/// A set of labelled grey-scale images.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// Number of images.
    pub count: usize,
    /// Image height.
    pub rows: usize,
    /// Image width.
    pub cols: usize,
    /// `count * rows * cols` bytes, image after image, row-major.
    pub pixels: Vec<u8>,
    /// One label per image.
    pub labels: Vec<u8>,
}

impl Dataset {
    /// Pixels per image.
    pub fn image_len(&self) -> usize {
        self.rows * self.cols
    }

    /// Image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.image_len();
        &self.pixels[i * n..(i + 1) * n]
    }

    /// Images `range` as a new data set.
    pub fn slice(&self, start: usize, end: usize) -> Dataset {
        let n = self.image_len();
        Dataset {
            count: end - start,
            rows: self.rows,
            cols: self.cols,
            pixels: self.pixels[start * n..end * n].to_vec(),
            labels: self.labels[start..end].to_vec(),
        }
    }

    /// Pairs an images file with a labels file, checking that they fit together.
    pub fn from_idx(images: Idx, labels: Idx, images_path: &Path, labels_path: &Path) -> Result<Dataset> {
        let bad = |path: &Path, reason: String| Error::Idx { path: path.to_path_buf(), reason };
        if images.dims.len() != 3 {
            return Err(bad(
                images_path,
                format!("expected 3 dimensions (count, rows, cols), found {:?}", images.dims),
            ));
        }
        if labels.dims.len() != 1 {
            return Err(bad(labels_path, format!("expected 1 dimension (count), found {:?}", labels.dims)));
        }
        if images.dims[0] != labels.dims[0] {
            return Err(bad(
                labels_path,
                format!("{} labels for {} images in {}", labels.dims[0], images.dims[0], images_path.display()),
            ));
        }
        if let Some(pos) = labels.data.iter().position(|&l| l > 9) {
            return Err(bad(labels_path, format!("label {} of item {pos} is not a digit 0-9", labels.data[pos])));
        }
        Ok(Dataset {
            count: images.dims[0],
            rows: images.dims[1],
            cols: images.dims[2],
            pixels: images.data,
            labels: labels.data,
        })
    }
}

/// The bundled 10,000 MNIST digits (see `data/mnist-10k/README.md`).
pub fn bundled() -> Result<Dataset> {
    let ip = Path::new("<bundled>/mnist-10k/images-idx3-ubyte.gz");
    let lp = Path::new("<bundled>/mnist-10k/labels-idx1-ubyte.gz");
    Dataset::from_idx(idx::parse(BUNDLED_IMAGES, ip)?, idx::parse(BUNDLED_LABELS, lp)?, ip, lp)
}

/// The bundled set split as train (first 8,000) and test (last 2,000).
pub fn bundled_split() -> Result<(Dataset, Dataset)> {
    let all = bundled()?;
    Ok((all.slice(0, BUNDLED_TRAIN), all.slice(BUNDLED_TRAIN, all.count)))
}

/// Finds `stem` in `dir` under the usual spellings (`train-images-idx3-ubyte`, `train-images.idx3-ubyte`,
/// each raw or `.gz`).
fn find(dir: &Path, stem: &str) -> Result<PathBuf> {
    let dotted = stem.replacen("-idx", ".idx", 1);
    for name in [stem.to_string(), dotted] {
        for ext in ["", ".gz"] {
            let p = dir.join(format!("{name}{ext}"));
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    Err(Error::Io {
        path: dir.join(stem),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "not found (also tried .gz and dotted names)"),
    })
}

/// Reads a standard MNIST directory: (train, test).
pub fn load_dir(dir: &Path) -> Result<(Dataset, Dataset)> {
    if !dir.is_dir() {
        return Err(Error::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
        });
    }
    let load = |images: &str, labels: &str| -> Result<Dataset> {
        let (ip, lp) = (find(dir, images)?, find(dir, labels)?);
        Dataset::from_idx(idx::read(&ip)?, idx::read(&lp)?, &ip, &lp)
    };
    Ok((
        load("train-images-idx3-ubyte", "train-labels-idx1-ubyte")?,
        load("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")?,
    ))
}

/// Reads only the label files of a standard MNIST directory: (train labels, test labels). For a party that
/// holds labels and no images.
pub fn load_labels_dir(dir: &Path) -> Result<(Vec<u8>, Vec<u8>)> {
    if !dir.is_dir() {
        return Err(Error::Io {
            path: dir.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory"),
        });
    }
    let load = |stem: &str| -> Result<Vec<u8>> {
        let p = find(dir, stem)?;
        let idx = idx::read(&p)?;
        if idx.dims.len() != 1 {
            return Err(Error::Idx { path: p, reason: format!("labels must be one-dimensional, got {:?}", idx.dims) });
        }
        if let Some(&bad) = idx.data.iter().find(|&&l| l > 9) {
            return Err(Error::Idx { path: p, reason: format!("label {bad} is not a digit") });
        }
        Ok(idx.data)
    };
    Ok((load("train-labels-idx1-ubyte")?, load("t10k-labels-idx1-ubyte")?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_set_matches_its_readme() {
        let d = bundled().unwrap();
        assert_eq!((d.count, d.rows, d.cols), (10_000, 28, 28));
        let mut counts = [0usize; 10];
        for &l in &d.labels[..BUNDLED_TRAIN] {
            counts[l as usize] += 1;
        }
        // data/mnist-10k/README.md: class counts in the first 8,000.
        assert_eq!(counts, [804, 897, 773, 855, 780, 680, 817, 862, 739, 793]);
    }
}
