//! Replays the committed fuzz corpus (`tests/corpus/<target>/`) through the same code as the
//! cargo-fuzz targets in `fuzz` (at the workspace root), on stable Rust: no input may panic, and the
//! value round-trip properties of `fuzz_logic` must hold.

use std::fs;
use std::path::{Path, PathBuf};

use crate::fuzz_logic;

/// The corpus files of one target, sorted; fails when the directory is missing or empty.
fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus dir {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "empty corpus {}", dir.display());
    files
        .into_iter()
        .map(|p| {
            let data = fs::read(&p).unwrap();
            (p, data)
        })
        .collect()
}

/// Runs `f` over every corpus file of `target`, naming the file that panics.
fn replay(target: &str, f: fn(&[u8])) {
    let files = corpus(target);
    let mut failed = Vec::new();
    for (path, data) in &files {
        if std::panic::catch_unwind(|| f(data)).is_err() {
            failed.push(path.display().to_string());
        }
    }
    assert!(failed.is_empty(), "{target}: inputs panicked: {failed:#?}");
}

#[test]
fn corpus_frame() {
    replay("frame", fuzz_logic::frame);
}

#[test]
fn corpus_request_body() {
    replay("request_body", fuzz_logic::request_body);
}

#[test]
fn corpus_response_body() {
    replay("response_body", fuzz_logic::response_body);
}

#[test]
fn corpus_value() {
    replay("value", fuzz_logic::value);
}

#[test]
fn corpus_segment_decode() {
    replay("segment_decode", fuzz_logic::segment_decode);
}

#[test]
fn corpus_rows() {
    replay("rows", fuzz_logic::rows);
}

/// Found by the `value` target, input
/// `01 0030 0002 6b73 0000 0003 0000 0001 0000 0000 0000 0000 0000 0000` followed by 12 zero bytes
/// (artifact crash-d87b14346dd3c58b6967594d974c1308c7b12be6): a UDT
/// type whose fields share a name decodes a value that does not encode back, because encoding
/// looks each type field up by name in the value and so pairs the first value with every field
/// of that name (`cannot encode ascii as CQL type ''`).
#[test]
fn udt_duplicate_field_names_are_rejected() {
    use cql_proto::ColumnType;
    // udt ks."" { "": ascii, "": custom "", "": custom "" }: found by the `value` target, whose
    // round trip failed because values are matched to fields by name.
    let typ = [
        0x00, 0x30, 0x00, 0x02, b'k', b's', 0x00, 0x00, 0x00, 0x03, // ks, "", 3 fields
        0x00, 0x00, 0x00, 0x01, // "": ascii
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // "": custom ""
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // "": custom ""
    ];
    let err = ColumnType::decode(&typ).unwrap_err();
    assert!(err.to_string().contains("declared twice"), "{err}");
}

#[test]
fn zero_column_rows_are_rejected() {
    use bytes::Bytes;
    use cql_proto::frame::ProtocolVersion;
    use cql_proto::{Opcode, Response};
    // RESULT kind Rows (2), flags NO_METADATA (4), 0 columns, then 2^31-1 rows in 4 bytes.
    let body = [
        0, 0, 0, 2, // kind
        0, 0, 0, 4, // flags
        0, 0, 0, 0, // columns_count
        0x7f, 0xff, 0xff, 0xff, // rows_count
    ];
    let err = Response::decode_body(
        Opcode::RESULT,
        ProtocolVersion::V4,
        Bytes::copy_from_slice(&body),
    )
    .unwrap_err();
    assert!(err.to_string().contains("zero columns"), "{err}");
}
