//! Masking of passwords in free text.
//!
//! Connection strings end up inside libpq, r2d2 and diesel error messages,
//! log lines and URLs we print. Anything that may carry a connection string
//! passes through [`mask_secrets`] before it reaches a message or a log line,
//! so that a password never leaves the process in clear text.
//!
//! The scanner errs on the side of masking too much: when it cannot tell
//! where a password ends, it masks up to the most distant plausible end.

/// What every secret is replaced with.
const MASK: &str = "***";

/// URI schemes accepted by libpq (matched case-insensitively).
const SCHEMES: [&str; 2] = ["postgresql://", "postgres://"];

/// Keys whose value is secret, longest first so `sslpassword` is not seen as `password`.
const SECRET_KEYS: [&str; 3] = ["sslpassword", "pgpassword", "password"];

/// Returns `text` with every password replaced by `***`, everything else byte-for-byte unchanged.
///
/// Recognised forms (keys and schemes case-insensitive, their case kept):
/// - URI userinfo `postgres[ql]://user:PASSWORD@host...`: the password runs
///   from the first `:` after `://` up to the last `@` followed by something
///   host-like on the same line and before the next URI, so raw `/ ? # @ :`,
///   spaces and quotes in the password are masked too;
/// - `password`, `sslpassword` and `PGPASSWORD` as key/value pairs
///   (`password = x`, `password='x \' y'`, quotes kept) and as URI query
///   parameters (`?password=x&...`, value up to the next `&` or whitespace).
///
/// ```
/// use hurricane_db::mask_secrets;
/// assert_eq!(
///     mask_secrets("postgres://writer:s3cret@db:5432/ihw?sslmode=require"),
///     "postgres://writer:***@db:5432/ihw?sslmode=require"
/// );
/// assert_eq!(mask_secrets("host=db password='a b' user=x"), "host=db password='***' user=x");
/// ```
#[must_use]
pub fn mask_secrets(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0; // `text[..copied]` is already in `out`
    let mut i = 0;
    while i < bytes.len() {
        let secret = match scheme_len_at(bytes, i) {
            Some(len) => userinfo_password(bytes, i + len),
            None => secret_value_at(bytes, i),
        };
        match secret {
            // Every range boundary is next to an ASCII byte or at the end of
            // `text`, hence on a char boundary: slicing cannot panic.
            Some((start, end)) if start < end => {
                out.push_str(&text[copied..start]);
                out.push_str(MASK);
                copied = end;
                i = end;
            }
            _ => i += 1,
        }
    }
    out.push_str(&text[copied..]);
    out
}

/// Whether `bytes[at..]` starts with `pattern`, ignoring ASCII case.
fn starts_with_at(bytes: &[u8], at: usize, pattern: &str) -> bool {
    bytes
        .get(at..at + pattern.len())
        .is_some_and(|s| s.eq_ignore_ascii_case(pattern.as_bytes()))
}

/// Length of the URI scheme (including `://`) starting at `at`, if any.
fn scheme_len_at(bytes: &[u8], at: usize) -> Option<usize> {
    SCHEMES
        .iter()
        .find(|scheme| starts_with_at(bytes, at, scheme))
        .map(|scheme| scheme.len())
}

/// Byte range of the userinfo password of the URI whose authority starts at `start`.
fn userinfo_password(bytes: &[u8], start: usize) -> Option<(usize, usize)> {
    // A URI never spans lines, and the next URI starts a new one.
    let end = (start..bytes.len())
        .find(|&j| matches!(bytes[j], b'\n' | b'\r') || scheme_len_at(bytes, j).is_some())
        .unwrap_or(bytes.len());
    let uri = &bytes[start..end];
    let colon = uri.iter().position(|&b| b == b':')?;
    // No userinfo if what precedes the colon cannot be a user name (a host
    // with a port after `user@`, an IPv6 literal, a path or a query).
    if uri[..colon]
        .iter()
        .any(|&b| b"@/?#[]".contains(&b) || b.is_ascii_whitespace())
    {
        return None;
    }
    let at = (colon + 1..uri.len())
        .rev()
        .find(|&j| uri[j] == b'@' && host_follows(&uri[j + 1..]))?;
    Some((start + colon + 1, start + at))
}

/// Whether `rest`, the text after an `@`, looks like the host part of a URI:
/// a host name (possibly non-ASCII or percent-encoded), IPv4, `[IPv6]`, or an
/// empty host followed by `/`, `:`, `,` or `?`.
fn host_follows(rest: &[u8]) -> bool {
    rest.first()
        .is_none_or(|&b| b.is_ascii_alphanumeric() || !b.is_ascii() || b"[/:,?%".contains(&b))
}

/// Byte range of the value of a secret key/value pair starting at `at`, if any.
fn secret_value_at(bytes: &[u8], at: usize) -> Option<(usize, usize)> {
    let prev = at.checked_sub(1).map(|p| bytes[p]);
    if prev.is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    let key = SECRET_KEYS
        .iter()
        .find(|key| starts_with_at(bytes, at, key))?;
    let eq = skip_blanks(bytes, at + key.len());
    if bytes.get(eq) != Some(&b'=') {
        return None;
    }
    let start = skip_blanks(bytes, eq + 1);
    let in_query = matches!(prev, Some(b'?' | b'&'));
    Some(value_range(bytes, start, in_query))
}

/// First index at or after `from` that is not a space or a tab.
fn skip_blanks(bytes: &[u8], from: usize) -> usize {
    (from..bytes.len())
        .find(|&j| !matches!(bytes[j], b' ' | b'\t'))
        .unwrap_or(bytes.len())
}

/// Byte range of the value starting at `start`: inside single quotes (with
/// `\'` and `\\` escapes, up to the end of text if unterminated), otherwise up
/// to whitespace, or also `&` in a URI query.
fn value_range(bytes: &[u8], start: usize, in_query: bool) -> (usize, usize) {
    if bytes.get(start) == Some(&b'\'') {
        let mut j = start + 1;
        while j < bytes.len() {
            match bytes[j] {
                b'\\' => j += 2,
                b'\'' => return (start + 1, j),
                _ => j += 1,
            }
        }
        return (start + 1, bytes.len());
    }
    let end = (start..bytes.len())
        .find(|&j| bytes[j].is_ascii_whitespace() || (in_query && bytes[j] == b'&'))
        .unwrap_or(bytes.len());
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::mask_secrets;

    /// (input, secret that must not survive, exact expected output)
    #[rustfmt::skip]
    const CASES: &[(&str, &str, Option<&str>)] = &[
        ("postgres://writer:s3cret@db:5432/ihw?sslmode=require", "s3cret", Some("postgres://writer:***@db:5432/ihw?sslmode=require")),
        ("postgresql://u:Secret1@localhost/db", "Secret1", Some("postgresql://u:***@localhost/db")),
        ("PostgreSQL://u:Secret2@h", "Secret2", Some("PostgreSQL://u:***@h")),
        ("postgres://u:Pct%2FSecret3%40x@h:5432/db", "Secret3", Some("postgres://u:***@h:5432/db")),
        ("postgres://u:Sp ace Secret4@h/db", "Secret4", Some("postgres://u:***@h/db")),
        ("postgres://u:Sl/ash-Secret5@h/db", "Sl/ash-Secret5", Some("postgres://u:***@h/db")),
        ("postgres://u:Q?mark#Secret6@h/db", "Secret6", Some("postgres://u:***@h/db")),
        ("postgres://u:At@Secret7@h:5432/db", "Secret7", Some("postgres://u:***@h:5432/db")),
        ("postgres://u:Co:lon&Eq=Secret9@h/db", "Secret9", Some("postgres://u:***@h/db")),
        ("postgres://u:Quo\"te'Secret10@h/db", "Secret10", Some("postgres://u:***@h/db")),
        ("invalid URI query parameter: \"x\" in URI: \"postgres://u:GarbagePw-Secret11@[::1\"", "Secret11", Some("invalid URI query parameter: \"x\" in URI: \"postgres://u:***@[::1\"")),
        ("postgresql://u:Multi-Secret12@h1:5432,h2:5433/db?target_session_attrs=any", "Secret12", Some("postgresql://u:***@h1:5432,h2:5433/db?target_session_attrs=any")),
        ("postgres://u:V6-Secret13@[::1]:5432/db", "Secret13", Some("postgres://u:***@[::1]:5432/db")),
        ("postgres://u:Bare-Secret14@h", "Secret14", Some("postgres://u:***@h")),
        ("postgres://u:Sock-Secret15@/db?host=/var/run/postgresql", "Secret15", Some("postgres://u:***@/db?host=/var/run/postgresql")),
        ("postgres://u:Q-Secret16@?host=/tmp", "Secret16", Some("postgres://u:***@?host=/tmp")),
        ("postgres://h/db?user=a&password=pw&sslmode=require", "=pw", Some("postgres://h/db?user=a&password=***&sslmode=require")),
        ("postgres://h/db?password=Q%20Secret17", "Secret17", Some("postgres://h/db?password=***")),
        ("postgres://h/db?sslmode=require&PassWord=Secret18", "Secret18", Some("postgres://h/db?sslmode=require&PassWord=***")),
        ("postgres://h/db?sslpassword=SslSecret19&sslmode=verify-full", "Secret19", Some("postgres://h/db?sslpassword=***&sslmode=verify-full")),
        ("host=db password=s3cret user=x", "s3cret", Some("host=db password=*** user=x")),
        ("host=db password = Secret20 user=x", "Secret20", Some("host=db password = *** user=x")),
        ("host=db password='Kv Secret8' user=x", "Kv Secret8", Some("host=db password='***' user=x")),
        (r"password='Esc\'aped \\ Secret21' dbname=d", "Secret21", Some("password='***' dbname=d")),
        ("PASSWORD=pw", "pw", Some("PASSWORD=***")),
        ("sslpassword=SslKv-Secret22 sslkey=/k", "Secret22", Some("sslpassword=*** sslkey=/k")),
        ("could not connect to \"postgres://u:Quoted-Secret23@db/app\".", "Secret23", Some("could not connect to \"postgres://u:***@db/app\".")),
        ("failed (postgres://u:Paren-Secret24@db), retrying", "Secret24", Some("failed (postgres://u:***@db), retrying")),
        ("primary postgres://a:First-Secret25@h1/db, replica POSTGRESQL://b:Second-Secret26@h2/db.", "Secret2", Some("primary postgres://a:***@h1/db, replica POSTGRESQL://b:***@h2/db.")),
        ("DATABASE_URL=postgres://writer:Env-Secret27@db:5432/ihw is invalid", "Secret27", Some("DATABASE_URL=postgres://writer:***@db:5432/ihw is invalid")),
        ("PGPASSWORD=Secret28 psql -h db", "Secret28", Some("PGPASSWORD=*** psql -h db")),
        ("password='Unterminated Secret29", "Secret29", Some("password='***")),
        ("postgres://u:a b@c Secret30@host/db", "Secret30", Some("postgres://u:***@host/db")),
        ("postgres://:EmptyUser-Secret31@h/db", "Secret31", Some("postgres://:***@h/db")),
        ("jdbc:postgresql://h:5432/db?user=u&password=Jdbc-Secret32", "Secret32", Some("jdbc:postgresql://h:5432/db?user=u&password=***")),
        ("invalid connection option in \"host=db password=Kv-Secret33\"", "Secret33", None),
        ("line one\npostgres://u:Nl-Secret34@h/db\nmail a@b", "Secret34", Some("line one\npostgres://u:***@h/db\nmail a@b")),
        ("postgres://ü:Ünï-Secret35@hösti/db", "Secret35", Some("postgres://ü:***@hösti/db")),
    ];

    #[test]
    fn masks_every_form() {
        assert!(CASES.len() >= 25);
        let mut failures = Vec::new();
        for &(input, secret, expected) in CASES {
            let out = mask_secrets(input);
            if out.contains(secret) {
                failures.push(format!("LEAK {secret:?}: {input:?} -> {out:?}"));
            }
            if !out.contains("***") || expected.is_some_and(|e| e != out) {
                failures.push(format!("WRONG {input:?} -> {out:?}, expected {expected:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn text_without_secrets_is_unchanged() {
        for text in [
            "connection to server at \"db\" (10.0.0.5), port 5432 failed: FATAL:  password authentication failed for user \"writer\"",
            "The password is required. Timed out waiting for a connection from the pool.",
            "postgres://a@h/db",
            "postgres://a@h:5432/db?sslmode=require",
            "postgresql://db.example.com:5432/app?sslmode=require&passfile=/home/u/.pgpass",
            "postgresql://[::1]:5432/db, postgres:///db?host=/var/run/postgresql",
            "host=db passfile=/home/u/.pgpass user=x",
            "pässword=ü, mypassword=x, password_hint=y",
        ] {
            assert_eq!(mask_secrets(text), text);
        }
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        for text in [
            "",
            "://",
            "postgres://",
            "postgres://:",
            "postgres://@",
            "postgres://u:@h",
            "password=",
            "password",
            "password='",
            "password='\\",
            "password = ' ",
            "?password=&",
            "@@@::://",
            "postgres://ü:ü@",
            "postgres://u:pw@[::1",
            "ü password=ü",
            "pässword='ü",
            "postgresql://ü",
            "ü@ü:ü",
        ] {
            let _ = mask_secrets(text);
        }
        assert_eq!(mask_secrets("ü password=ü"), "ü password=***");
        assert_eq!(mask_secrets("postgres://ü:ü@"), "postgres://ü:***@");
    }
}
