//! A guide as the catalog and the App hold it: a built-in guide is decoded
//! in full the first time it is used, and until then only its head
//! ([`Guide::head`]: titles, step ids, environments, notices) is in
//! memory. A start decodes only what its first frame shows: the picker
//! the heads, `cutover open GUIDE` that one guide.

use super::Compact;
use crate::guide::model::Guide;
use std::sync::{Arc, OnceLock};

/// Cheap to clone: every clone shares the one decoded guide.
#[derive(Clone)]
pub struct GuideCell(Arc<Inner>);

// One per guide, behind an Arc: the size of the larger variant costs nothing.
#[allow(clippy::large_enum_variant)]
enum Inner {
    /// A guide in full (a file's, or a test's).
    Ready(Arc<Guide>),
    /// A built-in guide: its compact form, its head, and the guide in full
    /// once something needs it.
    BuiltIn { compact: &'static Compact, head: Guide, full: OnceLock<Arc<Guide>> },
}

impl GuideCell {
    pub fn ready(guide: Arc<Guide>) -> Self {
        GuideCell(Arc::new(Inner::Ready(guide)))
    }

    /// A built-in guide, with its head decoded and the rest left for its
    /// first use. None if the head does not read (the caller then decodes
    /// the guide in full, which says why).
    pub(super) fn built_in(compact: &'static Compact) -> Option<Self> {
        let head = super::compact::from_bytes::<Guide>(compact.head).ok()?;
        Some(GuideCell(Arc::new(Inner::BuiltIn { compact, head, full: OnceLock::new() })))
    }

    /// The guide in full, decoded now if it was not yet.
    pub fn full(&self) -> &Arc<Guide> {
        match &*self.0 {
            Inner::Ready(g) => g,
            Inner::BuiltIn { compact, head, full } => full.get_or_init(|| {
                Arc::new(super::decode(compact).unwrap_or_else(|errors| {
                    // Not reached: build.rs read this very form back.
                    tracing::error!(
                        guide = compact.file,
                        ?errors,
                        "a built-in guide does not read; only its head is shown"
                    );
                    head.clone()
                }))
            }),
        }
    }

    /// What a list of guides shows ([`Guide::head`]) without decoding the
    /// rest; the guide in full where it is decoded.
    pub fn head(&self) -> &Guide {
        match &*self.0 {
            Inner::Ready(g) => g,
            Inner::BuiltIn { head, full, .. } => full.get().map(|g| &**g).unwrap_or(head),
        }
    }

    /// The guide's id, from its head (found before `Guide::id` through
    /// `Deref`, so looking a guide up by id decodes nothing).
    pub fn id(&self) -> &str {
        self.head().id()
    }

    /// The guide as a first frame opened on item `item` (an index into
    /// [`Guide::all_items`]) shows it, decoding that one item alone: the
    /// head, with that item in full. None where there is nothing to spare
    /// (the guide is in full already, or not built in) or the item is not
    /// there. Only for drawing that frame: every other item lacks its
    /// text and checks.
    pub fn showing(&self, item: usize) -> Option<GuideCell> {
        let Inner::BuiltIn { compact, head, full } = &*self.0 else { return None };
        if full.get().is_some() {
            return None;
        }
        let steps = head.steps.len();
        let (field, index) = if item < steps { ("steps", item) } else { ("troubleshooting", item - steps) };
        let step = super::compact::element_of::<crate::guide::model::Step>(compact.guide, field, index).ok()??;
        let mut view = head.clone();
        let slot = if item < steps { view.steps.get_mut(index) } else { view.troubleshooting.get_mut(index) };
        *slot? = step;
        Some(GuideCell::ready(Arc::new(view)))
    }

    /// Whether the guide is in memory in full.
    pub fn is_decoded(&self) -> bool {
        match &*self.0 {
            Inner::Ready(_) => true,
            Inner::BuiltIn { full, .. } => full.get().is_some(),
        }
    }

    /// The compact form of a built-in guide.
    pub(super) fn compact(&self) -> Option<&'static Compact> {
        match &*self.0 {
            Inner::Ready(_) => None,
            Inner::BuiltIn { compact, .. } => Some(compact),
        }
    }
}

/// Everything that reads the guide reads it in full.
impl std::ops::Deref for GuideCell {
    type Target = Guide;
    fn deref(&self) -> &Guide {
        self.full()
    }
}

impl std::fmt::Debug for GuideCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = if self.is_decoded() { "decoded" } else { "head only" };
        write!(f, "GuideCell({}, {state})", self.head().id())
    }
}
