//! A real peer run by one bash process with its `conformance/peers/*.sh`
//! functions loaded: the script starts the peer, prints one line (what the
//! demo needs to reach it), then waits on its stdin; closing that lets it
//! go on to the stop function, which needs the starting shell's state.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};

use super::Ctx;

pub(super) struct PeerShell {
    shell: Child,
}

impl PeerShell {
    /// Runs `script` with `args` in the workspace root; returns the shell
    /// and the line it printed once the peer was up.
    pub(super) fn start(
        ctx: &Ctx,
        script: &str,
        args: &[String],
    ) -> Result<(Self, String), String> {
        let mut shell = Command::new("bash")
            .args(["-c", script, "peer"])
            .args(args)
            .current_dir(&ctx.root)
            .env("ROOT", &ctx.root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("bash: {e}"))?;
        let mut line = String::new();
        let read = shell
            .stdout
            .take()
            .map(|out| BufReader::new(out).read_line(&mut line));
        let peer = Self { shell };
        match read {
            Some(Ok(n)) if n > 0 => Ok((peer, line.trim().to_owned())),
            _ => {
                peer.stop();
                Err("the peer did not start".to_owned())
            }
        }
    }

    /// Lets the shell go on to stop the peer, and waits for it.
    pub(super) fn stop(mut self) {
        drop(self.shell.stdin.take());
        let _ = self.shell.wait();
    }
}
