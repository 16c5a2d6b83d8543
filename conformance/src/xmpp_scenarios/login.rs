//! Logins: each SASL mechanism the server offers, then resource binding;
//! a wrong password refused with `not-authorized`.

use xmpp_codec::sasl::Mechanism;

use super::{Ctx, Outcome, close, ensure};
use crate::xmpp_driver::XmppError;

/// Logs in with `mech` only (SCRAM: the client checks the server's
/// signature in `<success/>`), binds, and checks the bound JID.
fn login_with(ctx: &Ctx, mech: Mechanism) -> Outcome {
    let offered = match ctx.features() {
        Ok(f) => f.mechanisms.clone(),
        Err(e) => return Outcome::Fail(e),
    };
    if !offered.iter().any(|m| m == mech.name()) {
        return Outcome::Skip(format!(
            "the server does not offer {} (offered: {})",
            mech.name(),
            offered.join(" ")
        ));
    }
    let r = (|| {
        let s = ctx.connect_with(&ctx.account, |c| c.mechanisms = vec![mech])?;
        let jid = s.jid().cloned().ok_or("no bound JID")?;
        ensure(jid.bare() == ctx.account.jid.bare(), || {
            format!("bound {jid}, expected a resource of {}", ctx.account.jid)
        })?;
        close(s)?;
        Ok(format!("{} then bound {jid}", mech.name()))
    })();
    r.into()
}

/// PLAIN.
pub(super) fn plain(ctx: &Ctx) -> Outcome {
    login_with(ctx, Mechanism::Plain)
}

/// SCRAM-SHA-1.
pub(super) fn scram_sha1(ctx: &Ctx) -> Outcome {
    login_with(ctx, Mechanism::ScramSha1)
}

/// SCRAM-SHA-256.
pub(super) fn scram_sha256(ctx: &Ctx) -> Outcome {
    login_with(ctx, Mechanism::ScramSha256)
}

/// The best mechanism with a wrong password: `<failure><not-authorized/>`.
pub(super) fn wrong_password(ctx: &Ctx) -> Outcome {
    let mut account = ctx.account.clone();
    account.password.push_str("-wrong");
    let Ok(cfg) = ctx.config(&account) else {
        return Outcome::Fail("bad JID".to_owned());
    };
    match crate::xmpp_driver::XmppStream::connect(&ctx.server, cfg, super::WAIT) {
        Ok(s) => {
            s.drop_transport();
            Outcome::Fail("a wrong password was accepted".to_owned())
        }
        Err(XmppError::AuthFailed(c)) if c == "not-authorized" => {
            Outcome::Pass("<failure><not-authorized/>".to_owned())
        }
        Err(e) => Outcome::Fail(format!("expected not-authorized, got: {e}")),
    }
}
