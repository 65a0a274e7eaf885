//! [`Statement`]: a CQL statement sent as text.

use proto::Text;

use super::{DEFAULT_PAGE_SIZE, StatementConfig, impl_page_size, impl_statement_config};

/// A CQL statement sent as text, parsed by the server on every execution.
///
/// Prefer [`PreparedStatement`](super::PreparedStatement)s for statements run more than once:
/// they skip the parsing and are routed to a replica of the data. An unprepared statement with
/// bound values is prepared first anyway, to learn the values' types.
///
/// The text is kept in a shared buffer: cloning a statement, and sending it, copies no text.
#[derive(Debug, Clone)]
pub struct Statement {
    pub(crate) contents: Text,
    pub(crate) config: StatementConfig,
    pub(crate) page_size: i32,
}

impl Statement {
    /// A statement with this CQL text and default options.
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            // Takes the `String`'s buffer without copying it.
            contents: Text::from(text.into()),
            config: StatementConfig::default(),
            page_size: DEFAULT_PAGE_SIZE,
        }
    }

    /// The CQL text.
    pub fn contents(&self) -> &str {
        &self.contents
    }
}

impl_statement_config!(Statement);
impl_page_size!(Statement);

impl From<&str> for Statement {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl From<String> for Statement {
    fn from(text: String) -> Self {
        Self::new(text)
    }
}

impl From<&String> for Statement {
    fn from(text: &String) -> Self {
        Self::new(text.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Statement;

    #[test]
    fn a_clone_shares_the_text() {
        let s = Statement::new(String::from("SELECT * FROM ks.t"));
        let c = s.clone();
        assert_eq!(c.contents(), "SELECT * FROM ks.t");
        assert_eq!(c.contents().as_ptr(), s.contents().as_ptr());
        assert_eq!(Statement::from("a").contents(), "a");
        assert_eq!(Statement::from(&String::from("b")).contents(), "b");
    }
}
