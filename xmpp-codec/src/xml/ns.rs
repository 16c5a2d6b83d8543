//! Namespace scopes (Namespaces in XML 1.0): what an element inherits from
//! its ancestors, the stream header included.

use crate::str::Str;

/// The namespace the `xml` prefix is bound to by definition.
pub const NS_XML: &str = "http://www.w3.org/XML/1998/namespace";

/// The namespace bindings in scope at some point of a document: the
/// default namespace (empty for none) and the prefixes bound by ancestors.
///
/// The stream header's declarations (`xmlns='jabber:client'`,
/// `xmlns:stream`, `xmlns:db` on s2s streams) are the scope every stanza is
/// parsed in, and the scope the encoder serializes in, so stanzas carry no
/// redundant `xmlns`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespaces {
    default: Str,
    prefixes: Vec<(Str, Str)>,
}

impl Namespaces {
    /// A scope with `default` as the default namespace and no prefixes.
    #[must_use]
    pub fn new(default: impl Into<Str>) -> Self {
        Self {
            default: default.into(),
            prefixes: Vec::new(),
        }
    }

    /// This scope with `prefix` bound to `ns`.
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<Str>, ns: impl Into<Str>) -> Self {
        self.bind(prefix.into(), ns.into());
        self
    }

    /// Binds `prefix` to `ns`, replacing an earlier binding.
    pub fn bind(&mut self, prefix: Str, ns: Str) {
        self.prefixes.retain(|(p, _)| *p != prefix);
        self.prefixes.push((prefix, ns));
    }

    /// Sets the default namespace.
    pub fn set_default(&mut self, ns: Str) {
        self.default = ns;
    }

    /// The default namespace (empty for none).
    #[must_use]
    pub const fn default_ns(&self) -> &Str {
        &self.default
    }

    /// The prefix bindings, oldest first.
    #[must_use]
    pub fn prefixes(&self) -> &[(Str, Str)] {
        &self.prefixes
    }

    /// The namespace `prefix` is bound to; `xml` is always bound.
    #[must_use]
    pub fn lookup(&self, prefix: &[u8]) -> Option<Str> {
        if prefix == b"xml" {
            return Some(Str::from_static(NS_XML));
        }
        self.prefixes
            .iter()
            .rev()
            .find(|(p, _)| p.as_bytes() == prefix)
            .map(|(_, ns)| ns.clone())
    }
}
