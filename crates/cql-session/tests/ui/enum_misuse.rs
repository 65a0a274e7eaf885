#[derive(cql_session::SerializeValue)]
#[cql(repr = "int")]
enum WithData {
    A,
    B(i32),
}

#[derive(cql_session::DeserializeValue)]
enum NoRepr {
    A,
}

#[derive(cql_session::SerializeValue)]
#[cql(repr = "int")]
struct NotAnEnum {
    a: i32,
}

#[derive(cql_session::DeserializeValue)]
#[cql(repr = "tinyint")]
enum TooBig {
    A = 1,
    B = 300,
}

#[derive(cql_session::SerializeValue)]
#[cql(repr = "int")]
enum RenamedInt {
    #[cql(rename = "a")]
    A,
}

#[derive(cql_session::SerializeValue)]
#[cql(repr = "varchar")]
enum UnknownRepr {
    A,
}

fn main() {}
