//! The simulator: virtual parties on threads, in-memory transports that record the ledger, views and traces,
//! and the cost model that replays traces under network profiles. Knows parties and networks, not models.

pub mod clock;
pub mod cost;
pub mod party;
pub mod record;
pub mod run;
pub mod transport;

pub use party::Role;
pub use transport::{Message, Payload, Phase, Transport, ViewKind};
