//! Progress state: the pure model (`model`), the only code that touches
//! the state file (`store`), the notes' earlier texts beside it (`notes`),
//! the files attached as evidence (`evidence`), and who else has it open
//! (`presence`).

pub mod evidence;
pub mod model;
pub mod notes;
pub mod presence;
pub mod store;

pub use model::*;
