//! Command-line flags of the runner binaries (`ws-peer`, `h2-peer`,
//! `amqp-peer`, `xmpp-peer`): hand-parsed, so the runners need no argument
//! crate.

/// `--name value` / `--name=value` options and `--name` switches, in order.
#[derive(Debug, Default)]
pub struct Flags {
    values: Vec<(String, String)>,
    switches: Vec<String>,
}

impl Flags {
    /// Parses `args`: each of `valued` takes a value, each of `switches`
    /// stands alone; anything else is an error naming it.
    pub fn parse(args: &[String], valued: &[&str], switches: &[&str]) -> Result<Self, String> {
        let mut f = Self::default();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            if let Some((name, value)) = a.split_once('=').filter(|(n, _)| valued.contains(n)) {
                f.values.push((name.to_owned(), value.to_owned()));
            } else if valued.contains(&a.as_str()) {
                let v = it.next().ok_or_else(|| format!("{a} needs a value"))?;
                f.values.push((a.clone(), v.clone()));
            } else if switches.contains(&a.as_str()) {
                f.switches.push(a.clone());
            } else {
                return Err(format!("unknown argument {a:?}"));
            }
        }
        Ok(f)
    }

    /// The last value given for `name`.
    #[must_use]
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value given for `name`, each split at commas, in order, empty
    /// items left out (`--scenario a,b --scenario c`).
    #[must_use]
    pub fn list(&self, name: &str) -> Vec<String> {
        self.values
            .iter()
            .filter(|(n, _)| n == name)
            .flat_map(|(_, v)| v.split(','))
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// Whether the switch `name` was given.
    #[must_use]
    pub fn has(&self, name: &str) -> bool {
        self.switches.iter().any(|s| s == name)
    }
}

#[cfg(test)]
mod tests {
    use super::Flags;

    #[test]
    fn values_switches_and_lists() {
        let args: Vec<String> = [
            "--url",
            "u1",
            "--x",
            "--scenario=a, b",
            "--url=u2",
            "--scenario",
            "c,",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        let f = Flags::parse(&args, &["--url", "--scenario"], &["--x"]).unwrap();
        assert_eq!(f.value("--url"), Some("u2"));
        assert!(f.has("--x"));
        assert!(!f.has("--y"));
        assert_eq!(f.list("--scenario"), ["a", "b", "c"]);
        assert_eq!(f.value("--nope"), None);
        let e = Flags::parse(&["--url".to_owned()], &["--url"], &[]).unwrap_err();
        assert_eq!(e, "--url needs a value");
        let e = Flags::parse(&["--bad".to_owned()], &["--url"], &[]).unwrap_err();
        assert_eq!(e, "unknown argument \"--bad\"");
    }
}
