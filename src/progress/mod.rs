//! Progress state: the pure model (`model`) and the only code that touches
//! the state file (`store`).

pub mod model;
pub mod store;

pub use model::*;
