//! The errors the broker answers a request with: soft ones close the
//! channel, hard ones the connection (AMQP 0-9-1 §1.2.3, RabbitMQ's codes
//! and reply texts).

use std::fmt::Display;

use amqp_codec::ReplyCode;

/// A reply code with RabbitMQ's reply text: the code's name, ` - `, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AmqpError {
    pub(super) code: ReplyCode,
    pub(super) text: String,
}

/// What the broker's operations return.
pub(super) type Result<T> = std::result::Result<T, AmqpError>;

impl AmqpError {
    pub(super) fn new(code: ReplyCode, why: impl Display) -> Self {
        Self {
            code,
            text: format!("{} - {why}", code.name()),
        }
    }

    /// 404, soft.
    pub(super) fn not_found(why: impl Display) -> Self {
        Self::new(ReplyCode::NotFound, why)
    }

    /// 406, soft.
    pub(super) fn precondition(why: impl Display) -> Self {
        Self::new(ReplyCode::PreconditionFailed, why)
    }

    /// 403, soft on a channel.
    pub(super) fn access_refused(why: impl Display) -> Self {
        Self::new(ReplyCode::AccessRefused, why)
    }

    /// 405, soft.
    pub(super) fn resource_locked(why: impl Display) -> Self {
        Self::new(ReplyCode::ResourceLocked, why)
    }

    /// 530, hard.
    pub(super) fn not_allowed(why: impl Display) -> Self {
        Self::new(ReplyCode::NotAllowed, why)
    }

    /// 540, hard.
    pub(super) fn not_implemented(why: impl Display) -> Self {
        Self::new(ReplyCode::NotImplemented, why)
    }

    /// 503, hard.
    pub(super) fn command_invalid(why: impl Display) -> Self {
        Self::new(ReplyCode::CommandInvalid, why)
    }

    /// Whether it closes the connection rather than the channel.
    pub(super) const fn is_hard(&self) -> bool {
        self.code.is_hard()
    }
}
