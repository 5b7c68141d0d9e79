//! One error type for the whole crate.
//!
//! Callers match on variants rather than parse messages: a service maps
//! [`Error::UniqueViolation`] to 409, [`Error::PermissionDenied`] to 403,
//! [`Error::Connection`] to 503 and so on, and asks [`Error::is_retryable`] whether
//! running the same transaction again is safe and may succeed.
//!
//! PostgreSQL failures arrive from Diesel as a `DatabaseErrorKind` plus the server's
//! message. Diesel 2.3 (the version in use) passes no SQLSTATE on: its
//! `DatabaseErrorInformation` has message, details, hint, table, column, constraint
//! and position, and the code only reaches us as a kind (an accessor for the code is
//! proposed upstream, diesel-rs/diesel#5232, in no release). So:
//! - By code, through the kind: 23505 unique, 23503 foreign key, 23514 check, 23502
//!   not null, 25006 read-only, 40001 serialization, class 08 connection.
//! - By the server's English primary message: 42501 insufficient_privilege
//!   ("permission denied for ...", "must be owner of ..."), class 22 data exceptions
//!   ("invalid input syntax", "value too long for type", "... out of range", ...),
//!   40P01 deadlock ("deadlock detected"), class 53 insufficient resources ("No space
//!   left on device", "out of memory", "too many clients", "temp_file_limit", ...),
//!   57014 statement timeout, 57P01/57P02/57P03 and libpq's own connection-loss
//!   messages (libpq's carry no SQLSTATE at all). Each variant made this way says so
//!   in its documentation.
//!
//! The text match relies on the server sending English messages (`lc_messages = 'C'`
//! or an English locale, the default of most installations and of our private
//! clusters); with a translated `lc_messages` those errors fall back to
//! [`Error::Database`] (and a lost connection is then not recognised as one).
//! Variants made from a database error keep it as their `source()`; connection
//! errors do not, because libpq's raw text may carry the password (their message is
//! masked instead), nor does [`Error::InsufficientResources`], whose server text names
//! internal file paths.

mod curation;
mod load;

use diesel::result::{DatabaseErrorInformation, DatabaseErrorKind};

use crate::codes::{Basin, Category};
use crate::mask::mask_secrets;
pub use curation::CurationError;
pub use load::{Rejected, RowError};

/// The database error a variant was made from, kept for `source()`.
pub type DbError = diesel::result::Error;

/// Everything that can go wrong in `hurricane_db`.
///
/// A variant made from a database error keeps it as its `source()` and its own message
/// says only what the crate makes of it (and the server's DETAIL, which the database
/// error's message leaves out): print the chain (`{:#}` with anyhow, or walk
/// `source()`) to see both, each once.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The row or object asked for does not exist.
    #[error("not found: {0}")]
    NotFound(String),

    /// The object to create (a user, ...) exists already.
    #[error("already exists: {0}")]
    AlreadyExists(String),

    /// A UNIQUE or PRIMARY KEY constraint refused the row (23505).
    #[error("duplicate key violates {constraint}{}", paren(detail))]
    UniqueViolation {
        /// The constraint's name.
        constraint: String,
        /// The server's DETAIL, e.g. `Key (fid)=(1) already exists.`
        detail: Option<String>,
        /// The database error.
        #[source]
        source: Box<DbError>,
    },

    /// A FOREIGN KEY constraint refused the row (23503).
    #[error("foreign key {constraint} refused the row{}", paren(detail))]
    ForeignKeyViolation {
        /// The constraint's name.
        constraint: String,
        /// The server's DETAIL.
        detail: Option<String>,
        /// The database error.
        #[source]
        source: Box<DbError>,
    },

    /// A value is not one of the codes of a reference table: the foreign key from
    /// `hurricanes.cat` to `categories` (or `basin` to `basins`) refused it (23503),
    /// e.g. a CAT of `Q9`. The caller's mistake, like [`Error::CheckViolation`]; a
    /// service answers 422. The message lists the valid values, in the order of
    /// [`crate::Category::ALL`] or [`crate::Basin::ALL`], which know them.
    #[error(
        "{column} \"{value}\": expected one of {} (the {table} table)",
        valid_codes(table)
    )]
    UnknownCode {
        /// The refused column, e.g. `cat`.
        column: &'static str,
        /// The value as sent.
        value: String,
        /// The reference table that lists the valid values, e.g. `categories`.
        table: &'static str,
        /// The database error.
        #[source]
        source: Box<DbError>,
    },

    /// A CHECK constraint refused the row: physically impossible values (23514).
    #[error("check constraint {constraint} refused the row{}", paren(detail))]
    CheckViolation {
        /// The constraint's name.
        constraint: String,
        /// The server's DETAIL.
        detail: Option<String>,
        /// The database error.
        #[source]
        source: Box<DbError>,
    },

    /// A NOT NULL column got no value (23502).
    #[error("not-null constraint refused the row{}", paren(detail))]
    NotNullViolation {
        /// The server's DETAIL.
        detail: Option<String>,
        /// The database error.
        #[source]
        source: Box<DbError>,
    },

    /// The database role lacks the privilege (42501), e.g. a writer's DELETE.
    /// Recognised by the server's English message text ("permission denied ...",
    /// "must be owner of ..."): Diesel 2.3 gives no SQLSTATE (see the module docs).
    #[error("{message}")]
    PermissionDenied {
        /// `permission denied` when the server refused (its message is the source's),
        /// else what this crate refused and why.
        message: String,
        /// The database error (absent when the check ran in this crate).
        #[source]
        source: Option<Box<DbError>>,
    },

    /// The server refused a value as malformed, too long or out of range (SQLSTATE
    /// class 22: invalid text representation, string data right truncation, numeric
    /// value out of range, character not in repertoire, ...): the caller's mistake.
    /// Recognised by the server's English message text, since Diesel 2.3 gives no
    /// SQLSTATE for class 22 (see the module docs); under a translated `lc_messages`
    /// these arrive as [`Error::Database`].
    #[error("invalid value{}", paren(detail))]
    InvalidValue {
        /// The server's DETAIL.
        detail: Option<String>,
        /// The database error.
        #[source]
        source: Box<DbError>,
    },

    /// A write was attempted inside a READ ONLY transaction or on a standby (25006).
    #[error("read-only transaction")]
    ReadOnly {
        /// The database error.
        #[source]
        source: Box<DbError>,
    },

    /// The server aborted the transaction to resolve a conflict with a concurrent one:
    /// serialization failure (40001) or deadlock (40P01). Nothing was committed;
    /// running the transaction again is the intended answer. 40001 comes by code
    /// (Diesel's kind); 40P01 by the server's English message "deadlock detected".
    #[error("transaction conflict, safe to retry{}", paren(detail))]
    Conflict {
        /// The server's DETAIL.
        detail: Option<String>,
        /// The database error.
        #[source]
        source: Box<DbError>,
    },

    /// The server lacks a resource to run the statement (SQLSTATE class 53,
    /// insufficient resources: disk full, out of memory, too many connections, a
    /// configured limit such as `temp_file_limit`). Not the caller's fault, and not
    /// theirs to read about: the message names the resource only. The server's own
    /// text names internal file paths, so it is not this error's `source()` (which a
    /// service or the command line prints); it stays in `server_error`, for logs.
    /// Recognised by the server's English message text or hint: Diesel 2.3 gives no
    /// SQLSTATE (see the module docs).
    #[error("database unavailable: the server is out of resources ({resource})")]
    InsufficientResources {
        /// Which resource, e.g. `disk full`.
        resource: &'static str,
        /// The database error, for logs only (not the `source()`).
        server_error: Box<DbError>,
    },

    /// The server cancelled a statement that ran past `statement_timeout` (SQLSTATE
    /// 57014): the work was too heavy for the limit, not malformed. Recognised by the
    /// server's English message ("canceling statement due to statement timeout"); the
    /// source says it in the server's words.
    #[error(
        "statement cancelled after the server's statement_timeout \
         (HURRICANE_DB_STATEMENT_TIMEOUT_MS sets it, in milliseconds)"
    )]
    StatementTimeout {
        /// The database error.
        #[source]
        source: Box<DbError>,
    },

    /// No pooled connection became free within the pool's checkout timeout.
    #[error("timed out waiting for a pooled connection: {0}")]
    PoolTimeout(String),

    /// A connection could not be opened: wrong password, unknown database or host,
    /// refused port, timeout. The message names the masked URL and what to check.
    #[error("connection failed: {0}")]
    Connection(String),

    /// An open connection was lost before its transaction committed: nothing of the
    /// transaction was written, and retrying it is safe. Recognised by Diesel's
    /// closed-connection kind or by libpq's and the server's English messages (a
    /// shutdown's 57P01 has no kind in Diesel 2.3).
    #[error("connection lost: {0}")]
    ConnectionLost(String),

    /// The connection was lost while COMMIT was under way: the transaction may or may
    /// not have been written. Never retried automatically.
    #[error("connection lost during COMMIT, outcome unknown: {0}")]
    CommitOutcomeUnknown(String),

    /// The database schema is not the one this crate was built for.
    #[error("{message}")]
    SchemaNotCurrent {
        /// What differs, and who must migrate.
        message: String,
        /// The server's error, when a statement met a table, column or function the
        /// database lacks (a database never migrated, or not to this release).
        #[source]
        source: Option<Box<DbError>>,
    },

    /// Applying, reverting or listing a migration failed.
    #[error("migration failed")]
    Migration {
        /// What diesel_migrations reported.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// Input from a caller, a file or the environment was not acceptable.
    #[error("invalid input: {0}")]
    InvalidInput(String),

    /// A row from the database could not be decoded into its Rust type: the schema and
    /// this crate disagree. Not the caller's fault.
    #[error("cannot decode a row")]
    Decode {
        /// The database error.
        #[source]
        source: Box<DbError>,
    },

    /// A value could not be encoded for the database: a value of a type this crate
    /// cannot send. A bug, not the caller's input.
    #[error("cannot encode a value for the database")]
    Encode {
        /// The database error.
        #[source]
        source: Box<DbError>,
    },

    /// A curation was refused; the source says which check failed.
    #[error("curation refused")]
    Curation(#[source] CurationError),

    /// A load found bad rows and wrote nothing; lists the first of them.
    #[error("{0}")]
    Rejected(Box<Rejected>),

    /// Starting or stopping the private PostgreSQL cluster failed.
    #[error("{0}")]
    Cluster(String),

    /// Any other database error.
    #[error("{message}")]
    Database {
        /// `database error` and the server's DETAIL when the server refused (its
        /// message is the source's), else the inconsistency this crate found.
        message: String,
        /// The database error (absent for inconsistencies this crate detected).
        #[source]
        source: Option<Box<DbError>>,
    },

    /// Drawing a picture failed (`plot` feature): a bug rather than bad input.
    #[error("drawing failed: {0}")]
    Render(String),

    /// A file could not be read or written; the source says why.
    #[error("{path}")]
    Io {
        /// The file.
        path: String,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
}

/// ` (detail)`, or nothing.
fn paren(detail: &Option<String>) -> String {
    detail
        .as_deref()
        .map_or_else(String::new, |d| format!(" ({d})"))
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

    /// Whether running the same transaction again is safe and may succeed: true for a
    /// serialization failure or deadlock ([`Error::Conflict`]) and for a connection
    /// lost before commit ([`Error::ConnectionLost`]); false for everything else,
    /// including a connection lost during COMMIT ([`Error::CommitOutcomeUnknown`]).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Conflict { .. } | Error::ConnectionLost(_))
    }

    /// Whether the database was unreachable or went away (a service's 503).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Error::Connection(_)
                | Error::ConnectionLost(_)
                | Error::CommitOutcomeUnknown(_)
                | Error::PoolTimeout(_)
                | Error::InsufficientResources { .. }
        )
    }

    fn from_database(kind: DatabaseErrorKind, source: DbError) -> Self {
        let diesel::result::Error::DatabaseError(_, info) = &source else {
            return Error::Database {
                message: "database error".into(),
                source: Some(Box::new(source)),
            };
        };
        let info: &dyn DatabaseErrorInformation = info.as_ref();
        let detail = info.details().map(String::from);
        let constraint = info.constraint_name().unwrap_or("(unnamed)").to_string();
        let primary = info.message();
        if matches!(kind, DatabaseErrorKind::ClosedConnection)
            || is_lost_connection_message(primary)
        {
            // libpq's own text may carry the URL: masked, and not kept as a source.
            return Error::ConnectionLost(mask_secrets(&describe(info)));
        }
        let class = Class::of(kind, info);
        let unknown = match class {
            Class::ForeignKey => unknown_code(&constraint, info),
            _ => None,
        };
        let source = Box::new(source);
        match class {
            Class::Unique => Error::UniqueViolation {
                constraint,
                detail,
                source,
            },
            Class::ForeignKey => match unknown {
                Some((column, value, table)) => Error::UnknownCode {
                    column,
                    value,
                    table,
                    source,
                },
                None => Error::ForeignKeyViolation {
                    constraint,
                    detail,
                    source,
                },
            },
            Class::Check => Error::CheckViolation {
                constraint,
                detail,
                source,
            },
            Class::NotNull => Error::NotNullViolation { detail, source },
            Class::ReadOnly => Error::ReadOnly { source },
            Class::Conflict => Error::Conflict { detail, source },
            Class::Resources(resource) => Error::InsufficientResources {
                resource,
                server_error: source,
            },
            Class::Timeout => Error::StatementTimeout { source },
            Class::Data => Error::InvalidValue { detail, source },
            // The crate runs only its own statements: a table, column or function of
            // them missing means a database that was never migrated (or not to this
            // release), not a caller's mistake.
            Class::Schema => Error::SchemaNotCurrent {
                message: "this database's schema is not the one this hurricane-db was built \
                          for (was it migrated? run `hurricane-db migrate` as the database owner)"
                    .into(),
                source: Some(source),
            },
            Class::Privilege => Error::PermissionDenied {
                message: format!("permission denied{}", paren(&detail)),
                source: Some(source),
            },
            Class::Other => Error::Database {
                message: format!("database error{}", paren(&detail)),
                source: Some(source),
            },
        }
    }
}

/// What a server error is, from Diesel's kind or (for the SQLSTATEs Diesel has no kind
/// for) the server's primary message.
enum Class {
    Unique,
    ForeignKey,
    Check,
    NotNull,
    ReadOnly,
    Conflict,
    /// SQLSTATE class 53, and which resource ran out.
    Resources(&'static str),
    /// 57014, a statement past `statement_timeout`.
    Timeout,
    Data,
    Privilege,
    /// 42P01, 42703, 42883: an undefined table, column or function.
    Schema,
    Other,
}

impl Class {
    fn of(kind: DatabaseErrorKind, info: &dyn DatabaseErrorInformation) -> Class {
        let primary = info.message();
        match kind {
            DatabaseErrorKind::UniqueViolation => Class::Unique,
            DatabaseErrorKind::ForeignKeyViolation => Class::ForeignKey,
            DatabaseErrorKind::CheckViolation => Class::Check,
            DatabaseErrorKind::NotNullViolation => Class::NotNull,
            DatabaseErrorKind::ReadOnlyTransaction => Class::ReadOnly,
            DatabaseErrorKind::SerializationFailure => Class::Conflict,
            _ if insufficient_resource(info).is_some() => {
                Class::Resources(insufficient_resource(info).unwrap_or("insufficient resources"))
            }
            _ if primary.starts_with("canceling statement due to statement timeout") => {
                Class::Timeout
            }
            _ if primary.starts_with("deadlock detected") => Class::Conflict,
            _ if is_data_exception(primary) => Class::Data,
            _ if is_permission_denied(primary) => Class::Privilege,
            _ if is_undefined_object(primary) => Class::Schema,
            _ => Class::Other,
        }
    }
}

/// Foreign keys from a column to a reference table of codes (migration 000006):
/// constraint, column, reference table.
const REFERENCE_KEYS: [(&str, &str, Reference); 4] = [
    ("hurricanes_cat_fkey", "cat", Reference::Categories),
    ("hurricanes_basin_fkey", "basin", Reference::Basins),
    ("storms_peak_cat_fkey", "peak_cat", Reference::Categories),
    ("storms_basin_fkey", "basin", Reference::Basins),
];

#[derive(Clone, Copy)]
enum Reference {
    Categories,
    Basins,
}

impl Reference {
    fn table(self) -> &'static str {
        match self {
            Reference::Categories => Category::TABLE,
            Reference::Basins => Basin::TABLE,
        }
    }
}

/// `TD, TS, ...`: the values of reference table `table`, as the crate's enums list them.
fn valid_codes(table: &str) -> String {
    let codes: Vec<&str> = if table == Basin::TABLE {
        Basin::names().collect()
    } else {
        Category::codes().collect()
    };
    codes.join(", ")
}

/// (column, value, table) when a reference key refused a row: the value comes
/// from the server's detail, `Key (cat)=(Q9) is not present in table "categories".`
fn unknown_code(
    constraint: &str,
    info: &dyn DatabaseErrorInformation,
) -> Option<(&'static str, String, &'static str)> {
    let &(_, column, reference) = REFERENCE_KEYS.iter().find(|(c, _, _)| *c == constraint)?;
    let detail = info.details()?;
    let rest = detail.strip_prefix(&format!("Key ({column})=("))?;
    let value = &rest[..rest.rfind(") is not present")?];
    Some((column, value.to_string(), reference.table()))
}

/// The resource a SQLSTATE class 53 error ran out of, by the server's primary message
/// or hint (Diesel 2.3 does not pass the SQLSTATE on): 53100 disk full, 53200 out of
/// memory, 53300 too many connections, 53400 configuration limit exceeded.
fn insufficient_resource(info: &dyn DatabaseErrorInformation) -> Option<&'static str> {
    const CLASS_53: &[(&str, &str)] = &[
        ("No space left on device", "disk full"),
        ("could not extend file", "disk full"),
        ("out of memory", "out of memory"),
        ("out of shared memory", "out of memory"),
        ("sorry, too many clients already", "too many connections"),
        ("too many connections", "too many connections"),
        (
            "remaining connection slots are reserved",
            "too many connections",
        ),
        (
            "temporary file size exceeds temp_file_limit",
            "temp_file_limit exceeded",
        ),
    ];
    let message = info.message();
    if info.hint() == Some("Check free disk space.") {
        return Some("disk full");
    }
    CLASS_53
        .iter()
        .find(|(words, _)| message.contains(words))
        .map(|(_, resource)| *resource)
}

/// SQLSTATE 42501 messages: "permission denied for table x", "must be owner of table x".
/// SQLSTATE 42P01, 42703 and 42883 by their primary text: `relation "hurricanes" does
/// not exist`, `column "status" does not exist`, `function loads_begin(...) does not
/// exist`.
fn is_undefined_object(message: &str) -> bool {
    ["relation \"", "column ", "function "]
        .iter()
        .any(|start| message.starts_with(start))
        && message.ends_with(" does not exist")
}

fn is_permission_denied(message: &str) -> bool {
    message.starts_with("permission denied") || message.starts_with("must be owner of")
}

/// SQLSTATE class 22 (data exception) messages, by their primary text.
fn is_data_exception(message: &str) -> bool {
    const CLASS_22: &[&str] = &[
        "invalid input syntax",
        "invalid input value",
        "value too long for type",
        "numeric field overflow",
        // "timestamp out of range" (22008), "integer out of range" (22003), "value
        // \"x\" is out of range for type ..." (22003), "array subscript out of
        // range" (2202E), "date/time field value out of range" (22008).
        " out of range",
        "invalid byte sequence for encoding",
        "has no equivalent in encoding",
        "division by zero",
        "invalid regular expression",
        "invalid escape string",
        "null character not permitted",
        "unterminated",
        "invalid time zone",
    ];
    CLASS_22.iter().any(|m| message.contains(m))
}

/// libpq's and the server's words for a connection that is gone: the client library's
/// own messages carry no SQLSTATE at all, and 57P01/57P02/57P03 (shutdown, crash,
/// cannot connect now) are not mapped by Diesel.
fn is_lost_connection_message(message: &str) -> bool {
    const LOST: &[&str] = &[
        "no connection to the server",
        "server closed the connection unexpectedly",
        "terminating connection",
        "could not receive data from server",
        "could not send data to server",
        "connection to server was lost",
        "SSL connection has been closed unexpectedly",
        "the database system is shutting down",
        "the database system is starting up",
        "the database system is in recovery mode",
        "the database system is not yet accepting connections",
        "consuming input failed",
        "lost synchronization with server",
    ];
    LOST.iter().any(|m| message.contains(m))
}

/// Whether a Diesel error means the connection itself is unusable (as opposed to a
/// statement the server refused): the pool then discards the connection.
pub(crate) fn is_connection_failure(err: &diesel::result::Error) -> bool {
    match err {
        diesel::result::Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => true,
        diesel::result::Error::DatabaseError(_, info) => is_lost_connection_message(info.message()),
        diesel::result::Error::BrokenTransactionManager => true,
        _ => false,
    }
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
            D::DatabaseError(kind, _) => Error::from_database(kind, err),
            D::BrokenTransactionManager => {
                Error::ConnectionLost("the connection's transaction state is broken".into())
            }
            D::DeserializationError(_) => Error::Decode {
                source: Box::new(err),
            },
            D::SerializationError(_) => Error::Encode {
                source: Box::new(err),
            },
            other => Error::Database {
                message: "database error".into(),
                source: Some(Box::new(other)),
            },
        }
    }
}

impl From<diesel::ConnectionError> for Error {
    fn from(err: diesel::ConnectionError) -> Self {
        Error::Connection(mask_secrets(&err.to_string()))
    }
}
