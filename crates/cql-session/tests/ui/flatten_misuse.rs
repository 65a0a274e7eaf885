#[derive(cql_session::SerializeRow, cql_session::DeserializeRow)]
struct Inner {
    a: i32,
}

#[derive(cql_session::SerializeValue)]
struct Udt {
    #[cql(flatten)]
    inner: Inner,
}

#[derive(cql_session::DeserializeRow)]
#[cql(flavor = "enforce_order")]
struct InOrder {
    #[cql(flatten)]
    inner: Inner,
}

#[derive(cql_session::SerializeRow)]
struct Renamed {
    #[scylla(flatten, rename = "x")]
    inner: Inner,
}

fn main() {}
