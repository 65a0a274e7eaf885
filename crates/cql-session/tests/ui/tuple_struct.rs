#[derive(cql_session::DeserializeValue)]
struct Pair(i32, String);

fn main() {}
