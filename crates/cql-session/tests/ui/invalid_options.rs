#[derive(cql_session::SerializeValue)]
#[cql(flavor = "positional")]
struct Udt {
    a: i32,
}

#[derive(cql_session::DeserializeRow)]
#[cql(skip_name_checks)]
struct Row {
    a: i32,
}

#[derive(cql_session::SerializeRow)]
struct Duplicate {
    a: i32,
    #[cql(rename = "a")]
    b: i32,
}

fn main() {}
