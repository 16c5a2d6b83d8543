//! Resource binding (RFC 6120 §7) and the legacy session (RFC 3921 §3,
//! still advertised by some servers).

use crate::conn::features::{NS_BIND, NS_SESSION};
use crate::element::Element;
use crate::error::Error;
use crate::stanza::iq::{Iq, IqPayload};
use crate::stanza::jid::Jid;
use crate::stanza::stream_error::StreamErrorCondition;
use crate::str::Str;

/// `<iq type='set'><bind><resource/></bind></iq>` (§7.6.1), or with no
/// resource to let the server pick.
pub(crate) fn request(id: Str, resource: Option<&str>, content_ns: &Str) -> Element {
    let mut bind = Element::new("bind", NS_BIND);
    if let Some(r) = resource {
        bind.push_child(Element::new("resource", NS_BIND).with_text(r.to_owned()));
    }
    Iq::new(id, IqPayload::Set(bind)).to_element(content_ns)
}

/// The JID a bind result carries (§7.6.1).
pub(crate) fn result_jid(iq: &Iq) -> Result<Jid, Error> {
    let bad = |reason| Error::Stream {
        condition: StreamErrorCondition::UndefinedCondition,
        reason,
    };
    match &iq.payload {
        IqPayload::Result(Some(b)) if b.is("bind", NS_BIND) => b
            .child("jid", NS_BIND)
            .ok_or(bad("bind result without a JID"))?
            .text()
            .as_str()
            .trim()
            .parse()
            .map_err(|_| bad("bind result with a malformed JID")),
        IqPayload::Error(_) => Err(Error::InvalidStanza {
            condition: crate::stanza::error::StanzaErrorCondition::NotAllowed,
            reason: "the server refused resource binding",
        }),
        _ => Err(bad("bind result without <bind/>")),
    }
}

/// The resource a bind request asks for, if any.
pub(crate) fn requested_resource(bind: &Element) -> Option<String> {
    bind.child("resource", NS_BIND)
        .map(|r| r.text().as_str().trim().to_owned())
        .filter(|r| !r.is_empty())
}

/// The result of a bind request, with the bound JID.
pub(crate) fn result(req: &Iq, jid: &Jid, content_ns: &Str) -> Element {
    let bind = Element::new("bind", NS_BIND)
        .with_child(Element::new("jid", NS_BIND).with_text(jid.to_string()));
    let mut r = req.result(Some(bind));
    r.common.from = None;
    r.common.to = None;
    r.to_element(content_ns)
}

/// `<iq type='set'><session/></iq>`.
pub(crate) fn session(id: Str, content_ns: &Str) -> Element {
    Iq::new(id, IqPayload::Set(Element::new("session", NS_SESSION))).to_element(content_ns)
}
