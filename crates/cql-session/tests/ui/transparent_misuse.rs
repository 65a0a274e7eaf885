#[derive(cql_session::SerializeValue)]
#[cql(transparent)]
struct Two(i32, i32);

#[derive(cql_session::DeserializeValue)]
#[scylla(transparent)]
struct None_ {
    #[cql(skip)]
    a: i32,
}

#[derive(cql_session::SerializeValue)]
struct Tuple(i32);

fn main() {}
