//! One error type for the whole crate.
//!
//! Callers match on variants rather than parse messages: a service maps
//! [`Error::UniqueViolation`] to 409, [`Error::PermissionDenied`] to 403 and so on.
//! PostgreSQL failures arrive from Diesel as `DatabaseErrorKind`s; the ones Diesel
//! has no kind for (42501 insufficient_privilege) are recognised by the server's
//! message, which our clusters pin to `lc_messages = C`.

use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind};

/// Everything that can go wrong in `hurricane_db`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The row or object asked for does not exist.
    #[error("not found: {0}")]
    NotFound(String),

    /// The object to create (a user, ...) exists already.
    #[error("already exists: {0}")]
    AlreadyExists(String),

    /// A UNIQUE or PRIMARY KEY constraint refused the row.
    #[error("duplicate key violates {constraint}: {message}")]
    UniqueViolation { constraint: String, message: String },

    /// A FOREIGN KEY constraint refused the row.
    #[error("foreign key {constraint} refused the row: {message}")]
    ForeignKeyViolation { constraint: String, message: String },

    /// A CHECK constraint refused the row (physically impossible values).
    #[error("check constraint {constraint} refused the row: {message}")]
    CheckViolation { constraint: String, message: String },

    /// A NOT NULL column got no value.
    #[error("not-null constraint refused the row: {message}")]
    NotNullViolation { message: String },

    /// The database role lacks the privilege (SQLSTATE 42501), e.g. a writer's DELETE.
    #[error("permission denied: {message}")]
    PermissionDenied { message: String },

    /// A write was attempted inside a READ ONLY transaction.
    #[error("read-only transaction: {message}")]
    ReadOnly { message: String },

    /// No pooled connection became free within the pool's connection timeout.
    #[error("timed out waiting for a pooled connection: {0}")]
    PoolTimeout(String),

    /// The server could not be reached or closed the connection.
    /// URLs in the message have their password masked.
    #[error("connection failed: {0}")]
    Connection(String),

    /// Applying or reverting a migration failed.
    #[error("migration failed: {0}")]
    Migration(String),

    /// Input from a caller, a file or the environment was not acceptable.
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// A curation was refused; the reason says which check failed.
    #[error("curation refused: {0}")]
    Curation(crate::curation::CurationError),

    /// A load found bad rows and wrote nothing; lists the first of them.
    #[error("{0}")]
    Rejected(Box<crate::ingest::Rejected>),

    /// Starting or stopping the private PostgreSQL cluster failed.
    #[error("{0}")]
    Cluster(String),

    /// Any other database error, with the server's message.
    #[error("database error: {message}")]
    Database { message: String },

    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// Crate-wide result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it concerns, so the message says which file.
    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }

    fn from_database(kind: DatabaseErrorKind, info: &dyn DatabaseErrorInformation) -> Self {
        let message = describe(info);
        let constraint = info.constraint_name().unwrap_or("(unnamed)").to_string();
        match kind {
            DatabaseErrorKind::UniqueViolation => Error::UniqueViolation {
                constraint,
                message,
            },
            DatabaseErrorKind::ForeignKeyViolation => Error::ForeignKeyViolation {
                constraint,
                message,
            },
            DatabaseErrorKind::CheckViolation => Error::CheckViolation {
                constraint,
                message,
            },
            DatabaseErrorKind::NotNullViolation => Error::NotNullViolation { message },
            DatabaseErrorKind::ReadOnlyTransaction => Error::ReadOnly { message },
            DatabaseErrorKind::ClosedConnection => Error::Connection(message),
            _ if is_permission_denied(info.message()) => Error::PermissionDenied { message },
            _ => Error::Database { message },
        }
    }
}

/// SQLSTATE 42501 messages: "permission denied for table x", "must be owner of table x".
fn is_permission_denied(message: &str) -> bool {
    message.starts_with("permission denied") || message.starts_with("must be owner of")
}

fn describe(info: &dyn DatabaseErrorInformation) -> String {
    match info.details() {
        Some(details) => format!("{} ({details})", info.message()),
        None => info.message().to_string(),
    }
}

impl From<diesel::result::Error> for Error {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::Error as D;
        match err {
            D::NotFound => Error::NotFound("no row matched".into()),
            D::DatabaseError(kind, info) => Error::from_database(kind, info.as_ref()),
            D::BrokenTransactionManager => {
                Error::Connection("the connection's transaction state is broken".into())
            }
            D::SerializationError(e) | D::DeserializationError(e) => {
                Error::InvalidInput(e.to_string())
            }
            other => Error::Database {
                message: other.to_string(),
            },
        }
    }
}

impl From<diesel::ConnectionError> for Error {
    fn from(err: diesel::ConnectionError) -> Self {
        Error::Connection(mask_secrets(&err.to_string()))
    }
}

/// Replaces the password in every URL or `password=...` pair of `text` with `***`.
///
/// Used on anything that may carry a connection string before it reaches a
/// message or a log line.
///
/// ```
/// use hurricane_db::error::mask_secrets;
/// assert_eq!(
///     mask_secrets("postgres://writer:s3cret@db:5432/ihw?sslmode=require"),
///     "postgres://writer:***@db:5432/ihw?sslmode=require"
/// );
/// assert_eq!(mask_secrets("host=db password=s3cret user=x"), "host=db password=*** user=x");
/// ```
pub fn mask_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&mask_word(word));
    }
    out
}

fn mask_word(word: &str) -> String {
    let lower = word.to_ascii_lowercase();
    if lower.starts_with("password=") {
        return "password=***".to_string();
    }
    let mut word = word.to_string();
    if let Some(scheme_end) = word.find("://") {
        let auth_start = scheme_end + 3;
        let auth_end = word[auth_start..]
            .find(['/', '?'])
            .map_or(word.len(), |i| auth_start + i);
        if let Some(at) = word[auth_start..auth_end].rfind('@') {
            let userinfo = &word[auth_start..auth_start + at];
            if let Some(colon) = userinfo.find(':') {
                word.replace_range(auth_start + colon + 1..auth_start + at, "***");
            }
        }
    }
    // A password given as a query parameter: ...?password=x&...
    for key in ["?password=", "&password="] {
        if let Some(start) = word.to_ascii_lowercase().find(key) {
            let value_start = start + key.len();
            let value_end = word[value_start..]
                .find('&')
                .map_or(word.len(), |i| value_start + i);
            word.replace_range(value_start..value_end, "***");
        }
    }
    word
}

#[cfg(test)]
mod tests {
    use super::mask_secrets;

    #[test]
    fn masks_passwords_everywhere() {
        assert_eq!(
            mask_secrets("could not connect to postgresql://a:b@h/db?sslmode=require"),
            "could not connect to postgresql://a:***@h/db?sslmode=require"
        );
        assert_eq!(
            mask_secrets("postgres://h/db?user=a&password=pw&sslmode=require"),
            "postgres://h/db?user=a&password=***&sslmode=require"
        );
        assert_eq!(mask_secrets("PASSWORD=pw"), "password=***");
        assert_eq!(mask_secrets("postgres://a@h/db"), "postgres://a@h/db");
    }
}
