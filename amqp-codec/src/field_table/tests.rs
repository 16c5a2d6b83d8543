use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::*;
use crate::strategies::field_table;
use crate::wire::Reader;

fn decode(body: &[u8]) -> Result<FieldTable, Error> {
    decode_with(body, &Limits::default())
}

/// Decodes `body` as a table's contents, adding the length prefix.
fn decode_with(body: &[u8], limits: &Limits) -> Result<FieldTable, Error> {
    let mut b = BytesMut::new();
    b.put_u32(u32::try_from(body.len()).unwrap());
    b.put_slice(body);
    FieldTable::decode(&b.freeze(), limits)
}

fn encode(t: &FieldTable) -> Vec<u8> {
    let mut b = BytesMut::new();
    t.encode(&mut b).unwrap();
    b.to_vec()
}

fn key(s: &str) -> ShortString {
    ShortString::try_new(s).unwrap()
}

fn one(letter: u8, value: &[u8]) -> Result<FieldValue, Error> {
    let mut body = vec![1, b'k', letter];
    body.extend_from_slice(value);
    decode(&body).map(|t| t.get("k").unwrap().clone())
}

#[test]
fn every_letter_in_rabbitmqs_reading() {
    assert_eq!(one(b't', &[1]), Ok(FieldValue::Bool(true)));
    assert_eq!(one(b't', &[0]), Ok(FieldValue::Bool(false)));
    assert_eq!(one(b'b', &[0xfb]), Ok(FieldValue::I8(-5)));
    assert_eq!(one(b'B', &[0xfa]), Ok(FieldValue::U8(250)));
    assert_eq!(one(b's', &[0xfe, 0xd4]), Ok(FieldValue::I16(-300)));
    assert_eq!(one(b'u', &[0xfd, 0xe8]), Ok(FieldValue::U16(65000)));
    assert_eq!(
        one(b'I', &[0xff, 0xfe, 0xee, 0x90]),
        Ok(FieldValue::I32(-70000))
    );
    assert_eq!(
        one(b'i', &[0xee, 0x6b, 0x28, 0x00]),
        Ok(FieldValue::U32(4_000_000_000))
    );
    assert_eq!(
        one(b'l', &(-1_099_511_627_776_i64).to_be_bytes()),
        Ok(FieldValue::I64(-1_099_511_627_776))
    );
    assert_eq!(one(b'f', &1.5f32.to_be_bytes()), Ok(FieldValue::F32(1.5)));
    assert_eq!(one(b'd', &2.25f64.to_be_bytes()), Ok(FieldValue::F64(2.25)));
    assert_eq!(
        one(b'D', &[2, 0, 0, 0x7a, 0xb7]),
        Ok(FieldValue::Decimal(Decimal {
            scale: 2,
            value: 31415
        }))
    );
    assert_eq!(one(b'S', &[0, 0, 0, 1, b'v']), Ok(FieldValue::from("v")));
    assert_eq!(
        one(b'x', &[0, 0, 0, 2, 0, 0xff]),
        Ok(FieldValue::ByteArray(Bytes::from_static(&[0, 0xff])))
    );
    assert_eq!(
        one(b'T', &1_700_000_000u64.to_be_bytes()),
        Ok(FieldValue::Timestamp(1_700_000_000))
    );
    assert_eq!(one(b'V', &[]), Ok(FieldValue::Void));
    assert_eq!(
        one(b'A', &[0, 0, 0, 2, b'b', 7]),
        Ok(FieldValue::Array(FieldArray::from(vec![FieldValue::I8(7)])))
    );
    assert_eq!(
        one(b'F', &[0, 0, 0, 3, 1, b'n', b'V']),
        Ok(FieldValue::Table(FieldTable::from(vec![(
            key("n"),
            FieldValue::Void
        )])))
    );
}

#[test]
fn spec_letters_decode_and_are_never_sent() {
    // `U` (0-9-1's signed short) and `L` (its signed long long) decode as
    // RabbitMQ's `s` and `l`...
    let u = one(b'U', &[0xfe, 0xd4]).unwrap();
    assert_eq!(u, FieldValue::I16(-300));
    let l = one(b'L', &(-2i64).to_be_bytes()).unwrap();
    assert_eq!(l, FieldValue::I64(-2));
    // ...and go out as `s` and `l`.
    assert_eq!(u.type_letter(), b's');
    assert_eq!(l.type_letter(), b'l');
    let t = FieldTable::from(vec![(key("k"), u)]);
    assert_eq!(encode(&t), [0, 0, 0, 5, 1, b'k', b's', 0xfe, 0xd4]);
}

#[test]
fn order_and_duplicates_are_kept() {
    let body = [1, b'b', b'V', 1, b'a', b'V', 1, b'b', b't', 1];
    let t = decode(&body).unwrap();
    let keys: Vec<&str> = t.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["b", "a", "b"]);
    assert_eq!(t.get("b"), Some(&FieldValue::Void));
    assert_eq!(encode(&t)[4..], body);
}

#[test]
fn insert_replaces_in_place() {
    let mut t = FieldTable::new();
    assert_eq!(t.insert(key("a"), 1u8.into()), None);
    t.insert(key("b"), 2u8.into());
    assert_eq!(t.insert(key("a"), 3u8.into()), Some(FieldValue::U8(1)));
    assert_eq!(t.entries()[0], (key("a"), FieldValue::U8(3)));
    assert_eq!(t.remove("a"), Some(FieldValue::U8(3)));
    assert_eq!(t.len(), 1);
}

#[test]
fn nan_equals_itself() {
    let nan = FieldValue::F64(f64::NAN);
    assert_eq!(nan, nan.clone());
    assert_ne!(FieldValue::F32(0.0), FieldValue::F32(-0.0));
}

#[test]
fn malformed_tables_are_syntax_errors() {
    let bad = |body: &[u8], e: PayloadError| {
        let got = decode(body).unwrap_err();
        assert_eq!(got, Error::payload(0, 0, e), "{body:?}");
        assert_eq!(got.reply_code(), 502, "{body:?}");
    };
    // Unknown type letter.
    bad(&[1, b'k', b'Q'], PayloadError::UnknownFieldType(b'Q'));
    // An entry cut by the table's end: in the value, the key, the letter.
    bad(&[1, b'k', b'I', 0, 0], PayloadError::FieldTruncated);
    bad(&[5, b'k'], PayloadError::FieldTruncated);
    bad(&[1, b'k'], PayloadError::FieldTruncated);
    // A nested table or string longer than what encloses it.
    bad(
        &[1, b'k', b'F', 0, 0, 0, 9, 0],
        PayloadError::FieldTruncated,
    );
    bad(
        &[1, b'k', b'S', 0xff, 0xff, 0xff, 0xff],
        PayloadError::FieldTruncated,
    );
    bad(
        &[1, b'k', b'A', 0, 0, 0, 1, b'I'],
        PayloadError::FieldTruncated,
    );
}

#[test]
fn table_errors_outside_the_table() {
    // The length prefix runs past the input: the enclosing payload is short.
    let e = FieldTable::decode(&Bytes::from_static(&[0, 0, 0, 5, 1]), &Limits::default());
    assert_eq!(e, Err(Error::payload(0, 0, PayloadError::Truncated)));
    assert_eq!(e.unwrap_err().reply_code(), 501);
    // A key that is not UTF-8 is a bad shortstr, as anywhere.
    let e = decode(&[1, 0xff, b'V']).unwrap_err();
    assert_eq!(e, Error::payload(0, 0, PayloadError::InvalidUtf8));
    // Bytes after the table.
    let e = FieldTable::decode(&Bytes::from_static(&[0, 0, 0, 0, 9]), &Limits::default());
    assert_eq!(e, Err(Error::payload(0, 0, PayloadError::TrailingBytes(1))));
}

/// `depth` tables nested in one another, innermost empty.
fn nested(depth: usize) -> Vec<u8> {
    let mut body: Vec<u8> = Vec::new();
    for _ in 1..depth {
        let mut outer = vec![1, b'n', b'F'];
        outer.extend_from_slice(&u32::try_from(body.len()).unwrap().to_be_bytes());
        outer.extend_from_slice(&body);
        body = outer;
    }
    body
}

#[test]
fn depth_limit() {
    let limits = Limits {
        max_table_depth: 4,
        ..Limits::default()
    };
    assert!(decode_with(&nested(4), &limits).is_ok());
    let e = decode_with(&nested(5), &limits).unwrap_err();
    assert_eq!(
        e,
        Error::payload(0, 0, PayloadError::TableTooDeep { limit: 4 })
    );
    assert_eq!(e.reply_code(), 502);
    // Arrays count as levels too.
    let arr = [1, b'a', b'A', 0, 0, 0, 6, b'A', 0, 0, 0, 1, b'V'];
    let limits = Limits {
        max_table_depth: 2,
        ..Limits::default()
    };
    assert!(decode_with(&arr, &limits).is_err());
    // The default limit survives a deep bomb without recursing further.
    assert!(decode(&nested(2_000)).is_err());
}

#[test]
fn size_limit_checked_before_decoding() {
    let limits = Limits {
        max_table_size: 8,
        ..Limits::default()
    };
    // Declares 9 bytes but carries none: the limit fails first.
    let e = FieldTable::decode(&Bytes::from_static(&[0, 0, 0, 9]), &limits).unwrap_err();
    assert_eq!(
        e,
        Error::payload(0, 0, PayloadError::TableTooLarge { size: 9, limit: 8 })
    );
    assert_eq!(e.reply_code(), 502);
    assert!(decode_with(&[1, b'k', b'V'], &limits).is_ok());
}

#[test]
fn strings_share_the_input() {
    let src = Bytes::from_static(&[0, 0, 0, 9, 1, b'k', b'S', 0, 0, 0, 2, b'h', b'i']);
    let t = FieldTable::decode(&src, &Limits::default()).unwrap();
    let Some(FieldValue::LongString(s)) = t.get("k") else {
        panic!("no string");
    };
    assert_eq!(s.as_bytes().as_ptr(), src[11..].as_ptr());
}

proptest! {
    #[test]
    fn tables_round_trip(t in field_table()) {
        let bytes = Bytes::from(encode(&t));
        let back = FieldTable::decode(&bytes, &Limits::default()).unwrap();
        prop_assert_eq!(&back, &t);
        // And re-encode to the same bytes.
        prop_assert_eq!(encode(&back), bytes.to_vec());
    }

    #[test]
    fn a_table_decodes_over_another_as_afresh(old in field_table(), t in field_table()) {
        let bytes = Bytes::from(encode(&t));
        let mut reused = old;
        Reader::new(&bytes).table_into(&Limits::default(), &mut reused).unwrap();
        prop_assert_eq!(&reused, &t);
        // Whatever a failed decode left behind is overwritten too.
        if let Some(cut) = bytes.len().checked_sub(1).filter(|&n| n > 4) {
            let mut short = BytesMut::from(&bytes[..cut]);
            short[..4].copy_from_slice(&u32::try_from(cut - 4).unwrap().to_be_bytes());
            let _ = Reader::new(&short.freeze()).table_into(&Limits::default(), &mut reused);
            Reader::new(&bytes).table_into(&Limits::default(), &mut reused).unwrap();
            prop_assert_eq!(&reused, &t);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode(&b);
    }
}
