use super::*;
use bytes::Bytes;
use proptest::prelude::*;

fn decode_all(role: Role, bytes: &[u8]) -> Result<Vec<Frame>, Error> {
    let mut d = Decoder::new(role, 1 << 24);
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Some(f) = d.decode(&mut buf)? {
        out.push(f);
    }
    assert!(buf.is_empty(), "left over: {buf:?}");
    Ok(out)
}

/// RFC 6455 §5.7 examples, byte for byte.
#[test]
fn rfc_examples() {
    let hello = |fin, op| Frame {
        fin,
        rsv1: false,
        opcode: op,
        payload: Bytes::from_static(b"Hello"),
    };
    // A single-frame unmasked text message.
    assert_eq!(
        decode_all(Role::Client, &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]).unwrap(),
        [hello(true, OpCode::Text)]
    );
    // A single-frame masked text message.
    assert_eq!(
        decode_all(
            Role::Server,
            &[
                0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
            ]
        )
        .unwrap(),
        [hello(true, OpCode::Text)]
    );
    // A fragmented unmasked text message.
    let f = decode_all(
        Role::Client,
        &[0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f],
    )
    .unwrap();
    assert_eq!(f[0].payload, "Hel");
    assert_eq!(
        (f[1].opcode, f[1].fin, &f[1].payload[..]),
        (OpCode::Continuation, true, &b"lo"[..])
    );
    // Unmasked ping and masked pong with "Hello".
    assert_eq!(
        decode_all(Role::Client, &[0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]).unwrap(),
        [hello(true, OpCode::Ping)]
    );
    assert_eq!(
        decode_all(
            Role::Server,
            &[
                0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
            ]
        )
        .unwrap(),
        [hello(true, OpCode::Pong)]
    );
    // 256 bytes in one unmasked binary frame: 16-bit length.
    let mut b = vec![0x82, 0x7E, 0x01, 0x00];
    b.extend([7u8; 256]);
    assert_eq!(decode_all(Role::Client, &b).unwrap()[0].payload.len(), 256);
    // 64 KiB: 64-bit length.
    let mut b = vec![0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0];
    b.extend(vec![7u8; 65536]);
    assert_eq!(
        decode_all(Role::Client, &b).unwrap()[0].payload.len(),
        65536
    );
    // And the encoder writes exactly these bytes.
    let mut out = BytesMut::new();
    encode_frame(
        &hello(true, OpCode::Text),
        Some([0x37, 0xfa, 0x21, 0x3d]),
        &mut out,
    );
    assert_eq!(
        &out[..],
        &[
            0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
        ]
    );
}

#[test]
fn partial_payload_is_unmasked_as_it_arrives() {
    let mut d = Decoder::new(Role::Server, 1000);
    let wire = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let mut buf = BytesMut::from(&wire[..8]);
    assert_eq!(d.decode(&mut buf), Ok(None));
    assert_eq!(d.partial_payload(&buf).unwrap().1, b"He");
    buf.extend_from_slice(&wire[8..10]);
    assert_eq!(d.decode(&mut buf), Ok(None));
    assert_eq!(d.partial_payload(&buf).unwrap().1, b"Hell");
    buf.extend_from_slice(&wire[10..]);
    assert_eq!(d.decode(&mut buf).unwrap().unwrap().payload, "Hello");
}

#[test]
fn header_errors_fail_on_the_first_telling_byte() {
    let mut dd = Decoder::new(Role::Server, 100);
    assert_eq!(
        dd.decode(&mut BytesMut::from(&[0x83][..])),
        Err(Error::ReservedOpcode(3))
    );
    assert_eq!(
        dd.decode(&mut BytesMut::from(&[0xC1][..])),
        Err(Error::ReservedBits(4))
    );
    assert_eq!(
        dd.decode(&mut BytesMut::from(&[0x08][..])),
        Err(Error::FragmentedControlFrame)
    );
    assert_eq!(
        dd.decode(&mut BytesMut::from(&[0x81, 0x05][..])),
        Err(Error::UnmaskedFrame)
    );
    assert!(matches!(
        dd.decode(&mut BytesMut::from(
            &[0x82, 0xFF, 0, 0, 0, 1, 0, 0, 0, 0][..]
        )),
        Err(Error::FrameTooLarge {
            size: 0x1_0000_0000,
            limit: 100
        })
    ));
    let mut c = Decoder::new(Role::Client, 100);
    assert_eq!(
        c.decode(&mut BytesMut::from(&[0x81, 0x85][..])),
        Err(Error::MaskedFrame)
    );
    c.set_rsv1_allowed(true);
    assert_eq!(
        c.decode(&mut BytesMut::from(&[0xC0][..])),
        Err(Error::CompressedControlOrContinuation)
    );
    assert_eq!(
        c.decode(&mut BytesMut::from(&[0xC9][..])),
        Err(Error::CompressedControlOrContinuation)
    );
    assert!(
        c.decode(&mut BytesMut::from(&[0xC1, 0x00][..]))
            .unwrap()
            .unwrap()
            .rsv1
    );
}

fn arb_frame() -> impl Strategy<Value = Frame> {
    let data = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        proptest::collection::vec(any::<u8>(), 60_000..70_000),
    ];
    (any::<bool>(), any::<bool>(), 0usize..6, data).prop_map(|(fin, rsv1, op, data)| {
        let opcode = [
            OpCode::Continuation,
            OpCode::Text,
            OpCode::Binary,
            OpCode::Close,
            OpCode::Ping,
            OpCode::Pong,
        ][op];
        let control = opcode.is_control();
        let mut payload = data;
        if control {
            payload.truncate(125);
        }
        Frame {
            fin: fin || control,
            rsv1: rsv1 && matches!(opcode, OpCode::Text | OpCode::Binary),
            opcode,
            payload: payload.into(),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// decode(encode(f)) == f for both roles, and any chunking of the wire
    /// bytes decodes to the same frames.
    #[test]
    fn round_trip_and_chunking(
        frames in proptest::collection::vec(arb_frame(), 1..5),
        masked in any::<bool>(),
        key in any::<[u8; 4]>(),
        cuts in proptest::collection::vec(1usize..4000, 1..10),
    ) {
        let role = if masked { Role::Server } else { Role::Client };
        let mut wire = BytesMut::new();
        for f in &frames {
            encode_frame(f, masked.then_some(key), &mut wire);
        }
        let mut d = Decoder::new(role, 1 << 20);
        d.set_rsv1_allowed(true);
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        let mut at = 0;
        let mut i = 0;
        while at < wire.len() {
            let n = cuts[i % cuts.len()].min(wire.len() - at);
            buf.extend_from_slice(&wire[at..at + n]);
            at += n;
            i += 1;
            while let Some(f) = d.decode(&mut buf).unwrap() {
                got.push(f);
            }
        }
        prop_assert_eq!(got, frames);
        prop_assert!(buf.is_empty());
    }

    /// Arbitrary bytes never panic and never leave a frame half-consumed.
    #[test]
    fn arbitrary_input_is_safe(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        for role in [Role::Server, Role::Client] {
            let mut d = Decoder::new(role, 64);
            let mut buf = BytesMut::from(&bytes[..]);
            while let Ok(Some(_)) = d.decode(&mut buf) {}
        }
    }
}
