//! Guides: the carriers' step-by-step instructions as data. Pure: no IO
//! beyond what `catalog` is handed.

pub mod catalog;
pub mod model;
pub mod parse;
mod request;

pub use catalog::{Catalog, GuideCell, GuideSource, LoadedGuide};
pub use model::*;
pub use parse::{GuideError, parse_guide, parse_guide_with_warnings};
pub use request::{BudgetWait, CheckRequest, RunOptions};
