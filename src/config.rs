//! Settings from the environment and `./.env`, read without touching the process
//! environment.
//!
//! `dotenvy::dotenv()` would copy `.env` into the environment with `set_var`, a data
//! race in a multi-threaded service. Here `.env` is parsed once per process into a map
//! and looked up after the real environment, which always wins. A malformed `.env`
//! is an error naming the file and line: silently skipping it could send a
//! production load to the wrong database.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::error::{Error, Result};

const DOTENV: &str = ".env";

/// What a URL query value may hold as it is: RFC 3986's unreserved characters.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `name` from the environment, else from `./.env`; `None` when set in neither or
/// set to an empty string. `.env` is read once per process and never copied into the
/// environment; a malformed `.env` is an [`Error::InvalidInput`] naming its line.
/// Public as [`crate::setting_from_env`], for a program's own settings beside the
/// library's `HURRICANE_DB_*` ones, read the same way.
pub fn var(name: &str) -> Result<Option<String>> {
    match std::env::var(name) {
        Ok(value) => return Ok(Some(value).filter(|v| !v.trim().is_empty())),
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(Error::InvalidInput(format!("{name} is not valid UTF-8")));
        }
        Err(std::env::VarError::NotPresent) => {}
    }
    static FILE: OnceLock<std::result::Result<HashMap<String, String>, String>> = OnceLock::new();
    match FILE.get_or_init(|| read_dotenv(Path::new(DOTENV))) {
        Ok(map) => Ok(map.get(name).filter(|v| !v.trim().is_empty()).cloned()),
        Err(message) => Err(Error::InvalidInput(message.clone())),
    }
}

/// A whole number from [`var`], `None` when unset.
pub fn number(name: &str) -> Result<Option<u64>> {
    match var(name)? {
        None => Ok(None),
        Some(value) => value.trim().parse::<u64>().map(Some).map_err(|_| {
            Error::InvalidInput(format!("{name} \"{value}\": expected a whole number"))
        }),
    }
}

/// The pairs of a `.env` file; a missing file is an empty map.
fn read_dotenv(path: &Path) -> std::result::Result<HashMap<String, String>, String> {
    let iter = match dotenvy::from_path_iter(path) {
        Ok(iter) => iter,
        Err(e) if e.not_found() => return Ok(HashMap::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let mut map = HashMap::new();
    for item in iter {
        match item {
            Ok((key, value)) => {
                map.insert(key, value);
            }
            Err(dotenvy::Error::LineParse(line, index)) => {
                // Name the line, never print it: it may hold a password.
                let number = std::fs::read_to_string(path)
                    .ok()
                    .and_then(|text| text.lines().position(|l| l.trim() == line.trim()))
                    .map_or_else(|| "?".to_string(), |i| (i + 1).to_string());
                return Err(format!(
                    "{}:{number}: column {}: expected KEY=VALUE (a name of letters, digits \
                     and _, then =, then a value quoted if it has spaces)",
                    path.display(),
                    index + 1
                ));
            }
            Err(e) => return Err(format!("{}: {e}", path.display())),
        }
    }
    Ok(map)
}

/// `conninfo` (URL or `key=value` form) with `key=value` added unless it sets `key`
/// already: the caller's own settings win over our defaults.
pub(crate) fn with_param(conninfo: &str, key: &str, value: &str) -> String {
    let lower = conninfo.to_ascii_lowercase();
    let is_url = lower.starts_with("postgresql://") || lower.starts_with("postgres://");
    if is_url {
        let query = lower.split_once('?').map_or("", |(_, q)| q);
        if query.split('&').any(|kv| kv.split('=').next() == Some(key)) {
            return conninfo.to_string();
        }
        let encoded = utf8_percent_encode(value, UNRESERVED);
        let sep = if conninfo.contains('?') { '&' } else { '?' };
        format!("{conninfo}{sep}{key}={encoded}")
    } else {
        let present = lower.split_whitespace().any(|w| {
            w.split('=').next() == Some(key) || (w == key && lower.contains(&format!("{key} =")))
        });
        if present {
            return conninfo.to_string();
        }
        let quoted = value.replace('\\', "\\\\").replace('\'', "\\'");
        format!("{conninfo} {key}='{quoted}'")
    }
}

#[cfg(test)]
mod tests {
    use super::{read_dotenv, with_param};

    #[test]
    fn params_are_added_once_in_either_form() {
        assert_eq!(
            with_param("postgresql://u@h/db", "connect_timeout", "5"),
            "postgresql://u@h/db?connect_timeout=5"
        );
        assert_eq!(
            with_param(
                "postgres://u@h/db?sslmode=require",
                "application_name",
                "my app"
            ),
            "postgres://u@h/db?sslmode=require&application_name=my%20app"
        );
        assert_eq!(
            with_param(
                "postgres://u@h/db?connect_timeout=9",
                "connect_timeout",
                "5"
            ),
            "postgres://u@h/db?connect_timeout=9"
        );
        assert_eq!(
            with_param("host=h dbname=d", "connect_timeout", "5"),
            "host=h dbname=d connect_timeout='5'"
        );
        assert_eq!(
            with_param("host=h connect_timeout=2", "connect_timeout", "5"),
            "host=h connect_timeout=2"
        );
    }

    #[test]
    fn a_malformed_env_file_names_its_line_not_its_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".env");
        std::fs::write(&path, "A=1\nthis is not valid Secret-77\nDATABASE_URL=x\n").unwrap();
        let err = read_dotenv(&path).unwrap_err();
        assert!(err.contains(".env:2:"), "{err}");
        assert!(!err.contains("Secret-77"), "{err}");
        std::fs::write(&path, "A=1\n# comment\nB='two words'\n").unwrap();
        let map = read_dotenv(&path).unwrap();
        assert_eq!(map.get("B").map(String::as_str), Some("two words"));
        assert!(read_dotenv(&dir.path().join("missing")).unwrap().is_empty());
    }
}
