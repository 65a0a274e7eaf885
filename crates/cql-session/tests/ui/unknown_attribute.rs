#[derive(cql_session::SerializeRow)]
struct Row {
    id: i32,
    #[cql(renamed = "user_name")]
    name: String,
}

#[derive(cql_session::DeserializeRow)]
#[cql(flavour = "enforce_order")]
struct Other {
    id: i32,
}

fn main() {}
