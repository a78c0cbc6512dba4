//! The one error type of the crate; its `Display` is DynamoDB's message.

/// Why a statement was refused. Every variant is a `ValidationException` on the wire except
/// where noted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartiqlError {
    /// The statement does not parse.
    #[error("Statement wasn't well formed, can't be processed: {0}")]
    Syntax(String),
    /// The statement parses but DynamoDB does not run it (a write without its full key...).
    #[error("{0}")]
    Unsupported(String),
    /// The statement has more `?` than the request has Parameters.
    #[error("Number of parameters in request and statement don't match.")]
    ParameterCount,
    /// A value breaks DynamoDB's rules (an empty set, a bad number...).
    #[error("{0}")]
    Value(String),
}
