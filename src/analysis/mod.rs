//! Pure math, no protocols: reconstructive-privacy bounds (closed forms in log10), the special functions
//! they need, and Monte Carlo estimates that check them.

pub mod bounds;
pub mod dp;
pub mod estimate;
pub mod special;
