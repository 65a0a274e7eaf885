#[derive(cql_session::SerializeRow)]
#[scylla(crate = cql_session)]
struct Row {
    id: i32,
    #[scylla(renamed = "user_name")]
    name: String,
}

#[derive(cql_session::DeserializeRow)]
#[scylla(flavour = "enforce_order")]
struct Other {
    id: i32,
}

#[derive(cql_session::DeserializeRow)]
struct Twice {
    #[cql(rename = "a")]
    #[scylla(rename = "b")]
    id: i32,
}

fn main() {}
