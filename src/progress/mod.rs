//! Progress state: the pure model (`model`), the only code that touches
//! the state file and the files beside it written under its lock (`store`:
//! the archives, the notes' earlier texts in `store::notes`), the files
//! attached as evidence (`evidence`), and who else has it open
//! (`presence`).

pub mod evidence;
pub mod model;
pub mod presence;
pub mod store;

pub use model::*;
