//! The restricted XML of RFC 6120 §11: an incremental scanner that frames
//! top-level elements, the tree builder, escaping, namespace scopes.

pub(crate) mod chars;
pub(crate) mod escape;
pub mod ns;
pub(crate) mod scan;
pub(crate) mod tree;
