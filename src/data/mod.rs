//! Data in: IDX files (raw or gzip, fully validated) and the bundled MNIST digits.

pub mod idx;
pub mod mnist;
