//! Which peer sends each method, and which replies a synchronous request
//! waits for (AMQP 0-9-1 §1.4 and RabbitMQ's extensions).

use crate::method::Method;

use super::Role;

/// Who may send a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sender {
    Client,
    Server,
    Both,
}

impl Sender {
    pub(super) fn allows(self, role: Role) -> bool {
        matches!(
            (self, role),
            (Self::Both, _) | (Self::Client, Role::Client) | (Self::Server, Role::Server)
        )
    }
}

/// Who sends `m`.
pub(super) const fn sender(m: &Method) -> Sender {
    use Method as M;
    match m {
        M::ConnectionStart(_)
        | M::ConnectionSecure(_)
        | M::ConnectionTune(_)
        | M::ConnectionOpenOk(_)
        | M::ConnectionBlocked(_)
        | M::ConnectionUnblocked(_)
        | M::ConnectionUpdateSecretOk(_)
        | M::ChannelOpenOk(_)
        | M::AccessRequestOk(_)
        | M::ExchangeDeclareOk(_)
        | M::ExchangeDeleteOk(_)
        | M::ExchangeBindOk(_)
        | M::ExchangeUnbindOk(_)
        | M::QueueDeclareOk(_)
        | M::QueueBindOk(_)
        | M::QueuePurgeOk(_)
        | M::QueueDeleteOk(_)
        | M::QueueUnbindOk(_)
        | M::BasicQosOk(_)
        | M::BasicConsumeOk(_)
        | M::BasicReturn(_)
        | M::BasicDeliver(_)
        | M::BasicGetOk(_)
        | M::BasicGetEmpty(_)
        | M::BasicRecoverOk(_)
        | M::TxSelectOk(_)
        | M::TxCommitOk(_)
        | M::TxRollbackOk(_)
        | M::ConfirmSelectOk(_) => Sender::Server,
        M::ConnectionStartOk(_)
        | M::ConnectionSecureOk(_)
        | M::ConnectionTuneOk(_)
        | M::ConnectionOpen(_)
        | M::ConnectionUpdateSecret(_)
        | M::ChannelOpen(_)
        | M::AccessRequest(_)
        | M::ExchangeDeclare(_)
        | M::ExchangeDelete(_)
        | M::ExchangeBind(_)
        | M::ExchangeUnbind(_)
        | M::QueueDeclare(_)
        | M::QueueBind(_)
        | M::QueuePurge(_)
        | M::QueueDelete(_)
        | M::QueueUnbind(_)
        | M::BasicQos(_)
        | M::BasicConsume(_)
        | M::BasicPublish(_)
        | M::BasicGet(_)
        | M::BasicReject(_)
        | M::BasicRecoverAsync(_)
        | M::BasicRecover(_)
        | M::TxSelect(_)
        | M::TxCommit(_)
        | M::TxRollback(_)
        | M::ConfirmSelect(_) => Sender::Client,
        // Close in both directions; flow, cancel (server-sent with
        // consumer_cancel_notify), ack and nack (confirms) too.
        M::ConnectionClose(_)
        | M::ConnectionCloseOk(_)
        | M::ChannelFlow(_)
        | M::ChannelFlowOk(_)
        | M::ChannelClose(_)
        | M::ChannelCloseOk(_)
        | M::BasicCancel(_)
        | M::BasicCancelOk(_)
        | M::BasicAck(_)
        | M::BasicNack(_) => Sender::Both,
    }
}

/// The reply a request waits for: its class and the method ids that
/// answer it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Expect {
    pub(super) class_id: u16,
    pub(super) method_ids: &'static [u16],
}

impl Expect {
    pub(super) fn matches(self, m: &Method) -> bool {
        m.class_id() == self.class_id && self.method_ids.contains(&m.method_id())
    }
}

/// The replies `m` waits for, if it is a channel request sent without
/// `nowait`. `channel.open` and `channel.close` are tracked by the
/// channel's state instead.
pub(super) fn expects(m: &Method) -> Option<Expect> {
    use Method as M;
    let method_ids: &'static [u16] = match m {
        M::ChannelFlow(_) => &[21],
        M::AccessRequest(_) | M::BasicQos(_) | M::TxSelect(_) => &[11],
        M::ExchangeDeclare(x) if !x.nowait => &[11],
        M::ExchangeDelete(x) if !x.nowait => &[21],
        M::ExchangeBind(x) if !x.nowait => &[31],
        M::ExchangeUnbind(x) if !x.nowait => &[51],
        M::QueueDeclare(x) if !x.nowait => &[11],
        M::QueueBind(x) if !x.nowait => &[21],
        M::QueuePurge(x) if !x.nowait => &[31],
        M::QueueDelete(x) if !x.nowait => &[41],
        M::QueueUnbind(_) => &[51],
        M::BasicConsume(x) if !x.nowait => &[21],
        M::BasicCancel(x) if !x.nowait => &[31],
        M::BasicGet(_) => &[71, 72],
        M::BasicRecover(_) => &[111],
        M::TxCommit(_) => &[21],
        M::TxRollback(_) => &[31],
        M::ConfirmSelect(x) if !x.nowait => &[11],
        _ => return None,
    };
    Some(Expect {
        class_id: m.class_id(),
        method_ids,
    })
}

/// Whether `m` is a reply to a synchronous request.
pub(super) const fn is_reply(m: &Method) -> bool {
    use Method as M;
    matches!(
        m,
        M::ChannelFlowOk(_)
            | M::AccessRequestOk(_)
            | M::ExchangeDeclareOk(_)
            | M::ExchangeDeleteOk(_)
            | M::ExchangeBindOk(_)
            | M::ExchangeUnbindOk(_)
            | M::QueueDeclareOk(_)
            | M::QueueBindOk(_)
            | M::QueuePurgeOk(_)
            | M::QueueDeleteOk(_)
            | M::QueueUnbindOk(_)
            | M::BasicQosOk(_)
            | M::BasicConsumeOk(_)
            | M::BasicCancelOk(_)
            | M::BasicGetOk(_)
            | M::BasicGetEmpty(_)
            | M::BasicRecoverOk(_)
            | M::TxSelectOk(_)
            | M::TxCommitOk(_)
            | M::TxRollbackOk(_)
            | M::ConfirmSelectOk(_)
    )
}
