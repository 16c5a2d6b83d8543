//! h2spec's server cases (`../shared/spec/h2spec-cases.txt`: generic,
//! http2, hpack groups) rewritten against our server state machine.
//!
//! Each case is a `#[test]` named after it and an entry in its module's
//! `CASES`, which carries h2spec's description word for word. Two tests
//! tie the list to the code: `every_listed_case_has_a_test` parses the
//! case file and requires a case with the same group, section and
//! description for each line, and `summary` runs them all and prints
//! per-group pass counts (`cargo test --test h2spec summary -- --nocapture`).
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs,
    unreachable_pub,
    dead_code
)]

mod harness;

/// One h2spec case.
pub struct Case {
    /// `generic`, `http2` or `hpack`.
    pub group: &'static str,
    /// The section, as in the case file's `## group/file.go SECTION` line.
    pub section: &'static str,
    /// h2spec's `Desc`, verbatim.
    pub desc: &'static str,
    /// The test's name.
    pub name: &'static str,
    pub run: fn() -> harness::Verdict,
}

/// Declares cases: a `#[test]` per case and the module's `CASES` table.
///
/// ```text
/// cases! { "http2", "6.7";
///     ping_ack: "Sends a PING frame" => { ...body returning Verdict... }
/// }
/// ```
macro_rules! cases {
    ($group:literal; $( $section:literal { $( $name:ident : $desc:literal => $body:block )* } )*) => {
        $( $(
            #[allow(unused_mut, clippy::redundant_closure_call)]
            pub fn $name() -> $crate::harness::Verdict $body
        )* )*

        pub const CASES: &[$crate::Case] = &[ $( $(
            $crate::Case {
                group: $group,
                section: $section,
                desc: $desc,
                name: stringify!($name),
                run: $name,
            },
        )* )* ];

        #[cfg(test)]
        mod tests {
            $( $(
                #[test]
                fn $name() {
                    if let Err(e) = super::$name() {
                        panic!("h2spec {} {} {:?}: {e}", $group, $section, $desc);
                    }
                }
            )* )*
        }
    };
}

mod generic;
mod hpack_cases;
mod http2_a;
mod http2_b;
mod http2_c;

fn all_cases() -> Vec<&'static Case> {
    [
        generic::CASES,
        hpack_cases::CASES,
        http2_a::CASES,
        http2_b::CASES,
        http2_c::CASES,
    ]
    .iter()
    .flat_map(|c| c.iter())
    .collect()
}

/// (group, section, desc) for every case in the h2spec case list.
fn listed_cases() -> Vec<(String, String, String)> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/spec/h2spec-cases.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e} (the shared spec files live beside the workspace, in ../shared)",
            path.display()
        )
    });
    let mut out = Vec::new();
    let (mut group, mut section) = (String::new(), String::new());
    for line in text.lines() {
        if let Some(head) = line.strip_prefix("## ") {
            // `## group/file.go SECTION Title words`
            let mut words = head.split_whitespace();
            let file = words.next().unwrap();
            group = file.split('/').next().unwrap().to_owned();
            section = words.next().unwrap().to_owned();
        } else if let Some(case) = line.strip_prefix("  - ") {
            let desc = case.split(" => ").next().unwrap().trim().to_owned();
            out.push((group.clone(), section.clone(), desc));
        }
    }
    out
}

#[test]
fn every_listed_case_has_a_test() {
    let cases = all_cases();
    let listed = listed_cases();
    assert!(listed.len() > 100, "case list not parsed");
    let mut missing = Vec::new();
    for (g, s, d) in &listed {
        let n = cases
            .iter()
            .filter(|c| c.group == g && c.section == s && c.desc == d)
            .count();
        if n != 1 {
            missing.push(format!("{g} {s} {d:?} ({n} tests)"));
        }
    }
    assert!(
        missing.is_empty(),
        "cases without exactly one test:\n{}",
        missing.join("\n")
    );
    let extra: Vec<_> = cases
        .iter()
        .filter(|c| {
            !listed
                .iter()
                .any(|(g, s, d)| c.group == g && c.section == s && c.desc == d)
        })
        .map(|c| format!("{} {} {:?}", c.group, c.section, c.desc))
        .collect();
    println!(
        "{} listed cases covered; extra cases beyond the list: {extra:?}",
        listed.len()
    );
}

#[test]
fn summary() {
    let mut groups: Vec<(&str, usize, usize)> = Vec::new();
    let mut failures = Vec::new();
    let listed = listed_cases();
    for c in all_cases() {
        let in_list = listed
            .iter()
            .any(|(g, s, d)| c.group == g && c.section == s && c.desc == d);
        let group = if in_list { c.group } else { "beyond the list" };
        let ok = (c.run)().map_err(|e| {
            failures.push(format!(
                "{} {} {} ({}): {e}",
                c.group, c.section, c.desc, c.name
            ));
        });
        let i = match groups.iter().position(|g| g.0 == group) {
            Some(i) => i,
            None => {
                groups.push((group, 0, 0));
                groups.len() - 1
            }
        };
        groups[i].2 += 1;
        if ok.is_ok() {
            groups[i].1 += 1;
        }
    }
    for (g, pass, total) in &groups {
        println!("h2spec server {g}: {pass}/{total} passed");
    }
    let (p, t) = groups.iter().fold((0, 0), |a, g| (a.0 + g.1, a.1 + g.2));
    println!("h2spec server total: {p}/{t} passed");
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(
        failures.is_empty(),
        "{} h2spec cases failed",
        failures.len()
    );
}
