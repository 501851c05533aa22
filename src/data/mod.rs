//! Data in: IDX files (raw or gzip, fully validated), the bundled MNIST digits, and tabular data (CSV with a
//! header, NumPy `.npy`).

pub mod idx;
pub mod mnist;
pub mod table;
