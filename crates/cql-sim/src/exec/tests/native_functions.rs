//! CQL native functions: blob conversions, time conversions and `CAST`, in selections, in
//! INSERT values and in WHERE, with the result column names and types servers report.

use proto::value::{CqlDate, CqlTimestamp};

use super::*;

fn setup() -> Sim {
    let mut s = Sim::new();
    s.ok("CREATE TABLE n (k int PRIMARY KEY, b blob, i int, t text, ts timestamp, id timeuuid, d date)");
    s
}

fn column_names(o: &Outcome) -> Vec<String> {
    let Outcome::Rows(r) = o else {
        panic!("not rows: {o:?}")
    };
    r.columns.iter().map(|c| c.name.to_string()).collect()
}

#[test]
fn blob_conversions_everywhere_the_servers_allow_them() {
    let mut s = setup();
    s.ok("INSERT INTO n (k, b, i, t) VALUES (blobAsInt(0x00000001), intAsBlob(42), blobAsInt(0x00000007), blobAsText(textAsBlob('hi')))");
    let o = s.ok("SELECT blobAsInt(b), intAsBlob(i), textAsBlob(t), system.blobasint(b) AS again FROM n WHERE k = blobasint(0x00000001)");
    assert_eq!(
        column_names(&o),
        vec![
            "system.blobasint(b)",
            "system.intasblob(i)",
            "system.textasblob(t)",
            "again"
        ]
    );
    assert_eq!(
        s.rows("SELECT blobAsInt(b), intAsBlob(i), textAsBlob(t) FROM n WHERE k = 1"),
        vec![vec![
            int(42),
            Some(CqlValue::Blob(vec![0, 0, 0, 7])),
            Some(CqlValue::Blob(b"hi".to_vec())),
        ]]
    );
    let o = s.ok("SELECT blobAsInt(0x0000002a), intAsBlob(7) FROM n WHERE k = 1");
    assert_eq!(
        column_names(&o),
        vec!["system.blobasint(0x0000002a)", "system.intasblob(7)"]
    );
    assert_eq!(
        decode(match &o {
            Outcome::Rows(r) => r,
            _ => unreachable!(),
        }),
        vec![vec![int(42), Some(CqlValue::Blob(vec![0, 0, 0, 7]))]]
    );
    let e = s.err("INSERT INTO n (k, t) VALUES (2, intAsBlob(1))");
    assert_eq!(
        e.to_string(),
        "Type error: cannot assign result of function system.intasblob (type blob) to t (type text)"
    );
    let e = s.err("INSERT INTO n (k, i) VALUES (2, blobAsInt(0xcafe))");
    assert_eq!(
        e.to_string(),
        "In call to function system.blobasint, value 0xcafe is not a valid binary representation for type int"
    );
    let e = s.err("SELECT blobAsInt(i) FROM n");
    assert!(
        e.to_string()
            .starts_with("Invalid call to function blobasint, none of its type signatures match"),
        "{e}"
    );
    let info = s
        .engine
        .prepare("INSERT INTO n (k, b) VALUES (?, intAsBlob(?))", Some("ks"))
        .unwrap();
    let specs: Vec<(String, ColumnType)> = info
        .bind_specs
        .iter()
        .map(|b| (b.name.to_string(), b.typ.clone()))
        .collect();
    assert_eq!(
        specs,
        vec![
            ("k".to_owned(), ColumnType::Int),
            ("arg0(system.intasblob)".to_owned(), ColumnType::Int)
        ]
    );
}

#[test]
fn time_conversions_and_cast() {
    let mut s = setup();
    s.ok("INSERT INTO n (k, i, ts, id, d) VALUES (1, 3, '2020-01-02 03:04:05+0000', now(), toDate(now()))");
    let o = s.ok("SELECT toUnixTimestamp(ts), toDate(ts), toTimestamp(d), cast(i as text), cast(i AS double), CAST(ts AS date), dateOf(id) FROM n WHERE k = 1");
    assert_eq!(
        column_names(&o),
        vec![
            "system.tounixtimestamp(ts)",
            "system.todate(ts)",
            "system.totimestamp(d)",
            "cast(i as text)",
            "cast(i as double)",
            "cast(ts as date)",
            "system.dateof(id)",
        ]
    );
    let ts = 1_577_934_245_000i64;
    let day = (1u32 << 31) + 18_263;
    let today = (1u32 << 31) + (s.now / 86_400_000_000) as u32;
    let row = decode(match &o {
        Outcome::Rows(r) => r,
        _ => unreachable!(),
    })
    .remove(0);
    assert_eq!(
        row,
        vec![
            Some(CqlValue::BigInt(ts)),
            Some(CqlValue::Date(CqlDate(day))),
            Some(CqlValue::Timestamp(CqlTimestamp(
                (i64::from(today) - (1i64 << 31)) * 86_400_000
            ))),
            txt("3"),
            Some(CqlValue::Double(3.0)),
            Some(CqlValue::Date(CqlDate(day))),
            Some(CqlValue::Timestamp(CqlTimestamp((s.now - 1) / 1000))),
        ]
    );
    // minTimeuuid / maxTimeuuid bound a timeuuid clustering range in WHERE.
    s.ok("CREATE TABLE ev (k int, id timeuuid, PRIMARY KEY (k, id))");
    s.ok("INSERT INTO ev (k, id) VALUES (1, now())");
    let later = "2100-01-01 00:00:00+0000";
    let q = format!(
        "SELECT toTimestamp(id) FROM ev WHERE k = 1 AND id > minTimeuuid('2000-01-01 00:00:00+0000') AND id < maxTimeuuid('{later}')"
    );
    assert_eq!(s.rows(&q).len(), 1);
    let q = format!("SELECT id FROM ev WHERE k = 1 AND id > maxTimeuuid('{later}')");
    assert!(s.rows(&q).is_empty());
    let e = s.err("SELECT cast(id as int) FROM ev");
    assert_eq!(e.to_string(), "timeuuid cannot be cast to int");
    let e = s.err("INSERT INTO n (k, ts) VALUES (5, currentDate())");
    assert!(e.to_string().starts_with("Type error"), "{e}");
    let r = s.rows("SELECT currentDate(), currentTimestamp(), currentTime() FROM n WHERE k = 1");
    assert!(matches!(
        r[0].as_slice(),
        [
            Some(CqlValue::Date(_)),
            Some(CqlValue::Timestamp(_)),
            Some(CqlValue::Time(_))
        ]
    ));
}

#[test]
fn to_json_and_from_json() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE j (k int PRIMARY KEY, l list<int>, t text)");
    s.ok("INSERT INTO j (k, l, t) VALUES (1, fromJson('[1, 2]'), fromJson('\"hi\"'))");
    let o = s.ok("SELECT toJson(l), toJson(t), toJson(k) FROM j WHERE k = 1");
    assert_eq!(
        column_names(&o),
        vec!["system.tojson(l)", "system.tojson(t)", "system.tojson(k)"]
    );
    let Outcome::Rows(r) = &o else { panic!() };
    assert_eq!(r.columns[0].typ, ColumnType::Text);
    assert_eq!(
        decode(r),
        vec![vec![txt("[1, 2]"), txt("\"hi\""), txt("1")]]
    );
    let e = s.err("INSERT INTO j (k, l) VALUES (2, fromJson('{\"a\": 1}'))");
    assert_eq!(e.code(), 0x2200);
}

#[test]
fn select_json_names_function_calls_as_the_servers_do() {
    let mut s = Sim::new();
    s.ok("CREATE TABLE j (p int PRIMARY KEY, v int)");
    s.ok("INSERT INTO j (p, v) VALUES (1, 17)");
    let cases = [
        ("intAsBlob(v)", r#"{"system.intasblob(v)": "0x00000011"}"#),
        (
            "blobasInt(intAsBlob(v))",
            r#"{"system.blobasint(system.intasblob(v))": 17}"#,
        ),
        ("tojson(v)", r#"{"system.tojson(v)": "17"}"#),
        ("CAST(v AS FLOAT)", r#"{"cast(v as float)": 17.0}"#),
    ];
    for (sel, want) in cases {
        let rows = s.rows(&format!("SELECT JSON {sel} FROM j WHERE p = 1"));
        assert_eq!(rows, vec![vec![txt(want)]], "{sel}");
    }
}

#[test]
fn deeply_nested_selectors_are_a_syntax_error() {
    let mut s = setup();
    let q = format!(
        "SELECT {}b{} FROM n",
        "blobAsInt(intAsBlob(".repeat(50_000),
        "))".repeat(50_000)
    );
    assert_eq!(s.err(&q).code(), 0x2000);
    let q = format!(
        "SELECT {}i{} FROM n",
        "cast(".repeat(50_000),
        " as int)".repeat(50_000)
    );
    assert_eq!(s.err(&q).code(), 0x2000);
}
