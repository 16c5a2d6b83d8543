use super::*;

#[test]
fn reply_codes_follow_the_spec_constants() {
    for code in 0..=u16::MAX {
        if let Some(r) = ReplyCode::from_code(code) {
            assert_eq!(r.code(), code);
            assert_eq!(r.is_hard(), code >= 500 || code == 320 || code == 402);
            assert_eq!(r.is_error(), code != 200);
        }
    }
    assert_eq!(ReplyCode::NotFound.name(), "NOT_FOUND");
    assert!(!ReplyCode::PreconditionFailed.is_hard());
}

#[test]
fn every_codec_error_is_a_connection_error() {
    let h = ProtocolHeader::AMQP_0_9_1;
    let all = [
        (Error::NotAmqp { received: vec![] }, 501),
        (Error::UnsupportedProtocol(h), 501),
        (Error::ProtocolRefused(h), 501),
        (Error::UnknownFrameType(9), 501),
        (Error::BadFrameEnd(0), 501),
        (Error::FrameTooLarge { size: 2, max: 1 }, 501),
        (
            Error::BadHeartbeat {
                channel: 1,
                size: 0,
            },
            501,
        ),
        (
            Error::UnknownMethod {
                class_id: 1,
                method_id: 1,
            },
            540,
        ),
        (Error::payload(60, 40, PayloadError::Truncated), 501),
        (Error::payload(60, 40, PayloadError::TrailingBytes(1)), 501),
        (Error::payload(60, 40, PayloadError::InvalidUtf8), 501),
        (
            Error::payload(60, 0, PayloadError::UnknownProperties(2)),
            501,
        ),
        (
            Error::payload(0, 0, PayloadError::UnknownFieldType(b'Z')),
            502,
        ),
        (Error::payload(0, 0, PayloadError::FieldTruncated), 502),
        (
            Error::payload(0, 0, PayloadError::TableTooDeep { limit: 1 }),
            502,
        ),
        (
            Error::payload(0, 0, PayloadError::TableTooLarge { size: 2, limit: 1 }),
            502,
        ),
        (
            Error::UnexpectedFrame {
                expected: FrameKind::Header,
                got: FrameKind::Body,
            },
            505,
        ),
        (
            Error::ContentClassMismatch {
                expected: 60,
                got: 10,
            },
            505,
        ),
        (Error::BodyTooLarge { size: 2, limit: 1 }, 501),
        (
            Error::BodyOverrun {
                remaining: 1,
                got: 2,
            },
            501,
        ),
    ];
    for (e, code) in all {
        assert_eq!(e.reply_code(), code, "{e}");
        assert!(e.is_hard(), "{e}");
        assert!(e.is_peer_error(), "{e}");
        assert!(!e.to_string().is_empty());
    }
    let misuse = Error::StringTooLong { len: 300, max: 255 };
    assert!(!misuse.is_peer_error());
    assert_eq!(misuse.reply_code(), 541);
    assert_eq!(
        Error::payload(60, 40, PayloadError::Truncated).failing_method(),
        (60, 40)
    );
    assert_eq!(Error::BadFrameEnd(0).failing_method(), (0, 0));
}
