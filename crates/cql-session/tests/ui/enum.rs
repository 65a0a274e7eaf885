#[derive(cql_session::SerializeRow)]
enum Row {
    A { id: i32 },
}

fn main() {}
