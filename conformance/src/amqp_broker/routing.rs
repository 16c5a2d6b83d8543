//! Exchanges and routing (AMQP 0-9-1 §3.1.3): direct, fanout, topic and
//! headers exchanges, queue and exchange-to-exchange bindings.

use std::collections::HashSet;

use amqp_codec::{FieldTable, FieldValue, ShortString};

use super::state::State;

/// An exchange type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ExchangeKind {
    Direct,
    Fanout,
    Topic,
    Headers,
}

impl ExchangeKind {
    pub(super) fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "direct" => Self::Direct,
            "fanout" => Self::Fanout,
            "topic" => Self::Topic,
            "headers" => Self::Headers,
            _ => return None,
        })
    }

    pub(super) const fn name(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::Fanout => "fanout",
            Self::Topic => "topic",
            Self::Headers => "headers",
        }
    }
}

/// Where a binding leads.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Destination {
    Queue(ShortString),
    Exchange(ShortString),
}

/// A binding from an exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Binding {
    pub(super) destination: Destination,
    pub(super) key: ShortString,
    pub(super) arguments: FieldTable,
}

/// An exchange with the bindings it is the source of.
#[derive(Debug)]
pub(super) struct Exchange {
    pub(super) kind: ExchangeKind,
    pub(super) durable: bool,
    pub(super) auto_delete: bool,
    pub(super) internal: bool,
    pub(super) bindings: Vec<Binding>,
}

impl Exchange {
    pub(super) const fn new(kind: ExchangeKind, durable: bool) -> Self {
        Self {
            kind,
            durable,
            auto_delete: false,
            internal: false,
            bindings: Vec::new(),
        }
    }

    /// The destinations a message with `routing_key` and `headers` goes
    /// to from this exchange (one hop).
    fn matching<'a>(
        &'a self,
        routing_key: &'a str,
        headers: Option<&'a FieldTable>,
    ) -> impl Iterator<Item = &'a Destination> + 'a {
        self.bindings
            .iter()
            .filter(move |b| match self.kind {
                ExchangeKind::Direct => b.key.as_str() == routing_key,
                ExchangeKind::Fanout => true,
                ExchangeKind::Topic => topic_matches(&b.key, routing_key),
                ExchangeKind::Headers => headers_match(&b.arguments, headers),
            })
            .map(|b| &b.destination)
    }
}

/// Whether topic binding key `pattern` matches `key`: words separated by
/// dots, `*` one word, `#` zero or more words.
pub(super) fn topic_matches(pattern: &str, key: &str) -> bool {
    fn words(s: &str) -> Vec<&str> {
        if s.is_empty() {
            Vec::new()
        } else {
            s.split('.').collect()
        }
    }
    let (p, k) = (words(pattern), words(key));
    // next[j]: does the rest of the pattern match k[j..]? Filled from the
    // last pattern word back, so the cost is |p| * |k| however many `#`
    // there are.
    let mut next: Vec<bool> = (0..=k.len()).map(|j| j == k.len()).collect();
    for pw in p.iter().rev() {
        let mut row = vec![false; k.len() + 1];
        for j in (0..=k.len()).rev() {
            let here = k.get(j);
            let at = |v: &[bool], j: usize| v.get(j).copied().unwrap_or(false);
            let m = match *pw {
                "#" => at(&next, j) || (here.is_some() && at(&row, j + 1)),
                "*" => here.is_some() && at(&next, j + 1),
                w => here.is_some_and(|h| *h == w) && at(&next, j + 1),
            };
            if let Some(slot) = row.get_mut(j) {
                *slot = m;
            }
        }
        next = row;
    }
    next.first().copied().unwrap_or(false)
}

/// Whether a headers binding (its arguments, with `x-match`) matches a
/// message's headers.
pub(super) fn headers_match(binding: &FieldTable, headers: Option<&FieldTable>) -> bool {
    let mode = binding
        .get("x-match")
        .and_then(FieldValue::as_str)
        .unwrap_or("all");
    let (any, with_x) = match mode {
        "any" => (true, false),
        "any-with-x" => (true, true),
        "all-with-x" => (false, true),
        _ => (false, false),
    };
    let mut wanted = binding
        .iter()
        .filter(|(k, _)| k.as_str() != "x-match" && (with_x || !k.starts_with("x-")));
    let hit = |(k, v): (&ShortString, &FieldValue)| {
        headers
            .and_then(|h| h.get(k))
            .is_some_and(|got| matches!(v, FieldValue::Void) || same_value(v, got))
    };
    if any {
        wanted.any(hit)
    } else {
        wanted.all(hit)
    }
}

/// Values compare as RabbitMQ compares them: integers by value whatever
/// their width, everything else exactly.
fn same_value(a: &FieldValue, b: &FieldValue) -> bool {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

impl State {
    /// The queues a message published to `exchange` reaches, through
    /// exchange-to-exchange bindings too, each once.
    pub(super) fn route(
        &self,
        exchange: &str,
        routing_key: &str,
        headers: Option<&FieldTable>,
    ) -> Vec<ShortString> {
        if exchange.is_empty() {
            return self
                .queues
                .get_key_value(routing_key)
                .map(|(k, _)| vec![k.clone()])
                .unwrap_or_default();
        }
        let mut queues = Vec::new();
        let mut seen_queues = HashSet::new();
        let mut seen_exchanges: HashSet<&str> = HashSet::from([exchange]);
        let mut todo = vec![exchange];
        while let Some(name) = todo.pop() {
            let Some(x) = self.exchanges.get(name) else {
                continue;
            };
            for d in x.matching(routing_key, headers) {
                match d {
                    Destination::Queue(q) => {
                        if self.queues.contains_key(q) && seen_queues.insert(q) {
                            queues.push(q.clone());
                        }
                    }
                    Destination::Exchange(e) => {
                        if seen_exchanges.insert(e.as_str()) {
                            todo.push(e.as_str());
                        }
                    }
                }
            }
        }
        queues
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_patterns() {
        let cases = [
            ("a.b.c", "a.b.c", true),
            ("a.*.c", "a.b.c", true),
            ("a.*.c", "a.c", false),
            ("a.#", "a", true),
            ("a.#", "a.b.c", true),
            ("#", "", true),
            ("#", "x.y", true),
            ("*", "", false),
            ("#.c", "a.b.c", true),
            ("#.c", "c", true),
            ("a.#.c", "a.c", true),
            ("a.#.c", "a.x.y.c", true),
            ("a.#.c", "a.x.y.d", false),
            ("*.#", "", false),
            ("#.#", "a", true),
            ("a.*", "a.b.c", false),
            ("", "", true),
            ("", "a", false),
        ];
        for (p, k, want) in cases {
            assert_eq!(topic_matches(p, k), want, "{p:?} vs {k:?}");
        }
    }

    #[test]
    fn headers_all_and_any() {
        let s = |v: &str| FieldValue::LongString(v.into());
        let key = |k: &str| ShortString::try_new(k).unwrap_or_default();
        let table = |entries: &[(&str, FieldValue)]| -> FieldTable {
            entries.iter().map(|(k, v)| (key(k), v.clone())).collect()
        };
        let msg = table(&[
            ("format", s("pdf")),
            ("type", s("report")),
            ("n", FieldValue::I32(7)),
        ]);
        let all = table(&[
            ("x-match", s("all")),
            ("format", s("pdf")),
            ("type", s("report")),
        ]);
        let any = table(&[
            ("x-match", s("any")),
            ("format", s("zip")),
            ("type", s("report")),
        ]);
        let wide = table(&[("n", FieldValue::I64(7))]);
        let miss = table(&[("format", s("pdf")), ("type", s("log"))]);
        let presence = table(&[("format", FieldValue::Void)]);
        assert!(headers_match(&all, Some(&msg)));
        assert!(headers_match(&any, Some(&msg)));
        assert!(headers_match(&wide, Some(&msg)));
        assert!(!headers_match(&miss, Some(&msg)));
        assert!(headers_match(&presence, Some(&msg)));
        assert!(!headers_match(&all, None));
        assert!(headers_match(&table(&[]), None));
        assert!(!headers_match(&table(&[("x-match", s("any"))]), Some(&msg)));
    }
}
