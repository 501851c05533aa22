//! What a curious party can reconstruct from what it saw. One file per attack family; each takes a view
//! (recorded by the simulator) or a transformed data set plus stated auxiliary knowledge, produces
//! reconstructions and scores them; none knows transports.

pub mod data;
pub mod decoder;
pub mod degree_matching;
pub mod dp_reconstruction;
pub mod float_share;
pub mod helper_linking;
pub mod helper_view;
pub mod known_plaintext;
pub mod known_sample;
pub mod layout;
pub mod layout_match;
pub mod linalg;
pub mod linking;
pub mod metrics;
pub mod mlp;
pub mod pixel_permutation;
pub mod prior;
pub mod reuse;
pub mod subspace;
pub mod value_linking;
