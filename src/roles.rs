//! Login users in the two group roles the migrations create.
//!
//! `hurricane_writer` may SELECT, INSERT and UPDATE but never DELETE, TRUNCATE or change
//! the schema; `hurricane_reader` may only SELECT. People and services log in as their
//! own LOGIN role, a member of one group.
//!
//! Passwords never travel or rest in clear: the SCRAM-SHA-256 verifier is computed
//! here (with SASLprep, as libpq does) and only the verifier is sent, so even a server
//! logging every statement records no password.

use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};
use serde::Serialize;

use crate::error::{Error, Result};

/// The group a login user belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// SELECT, INSERT, UPDATE: loads and edits, never deletes.
    Writer,
    /// SELECT only: analysts.
    Reader,
}

impl Role {
    /// The NOLOGIN group role's name.
    pub fn group(self) -> &'static str {
        match self {
            Role::Writer => "hurricane_writer",
            Role::Reader => "hurricane_reader",
        }
    }

    fn from_group(name: &str) -> Option<Role> {
        match name {
            "hurricane_writer" => Some(Role::Writer),
            "hurricane_reader" => Some(Role::Reader),
            _ => None,
        }
    }
}

/// A login user and its group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// The login role's name.
    pub name: String,
    /// The group it is a member of.
    pub role: Role,
}

/// Checks a user name: lower-case letters, digits and `_`, starting with a letter or
/// `_`, at most 63 bytes, and not a reserved `pg_` or `hurricane_` name.
pub fn check_user_name(name: &str) -> Result<()> {
    let ok_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    let ok_start = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b == b'_');
    if !ok_chars || !ok_start || name.len() > 63 {
        return Err(Error::InvalidInput(format!(
            "user name \"{name}\": expected lower-case letters, digits and _, starting with a letter, at most 63 characters"
        )));
    }
    if name.starts_with("pg_") || name.starts_with("hurricane_") || name == "postgres" {
        return Err(Error::InvalidInput(format!(
            "user name \"{name}\": pg_*, hurricane_* and postgres are reserved"
        )));
    }
    Ok(())
}

#[derive(QueryableByName)]
struct Flag {
    #[diesel(sql_type = Bool)]
    flag: bool,
}

fn role_exists(conn: &mut PgConnection, name: &str) -> Result<bool> {
    let row: Flag =
        diesel::sql_query("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1) AS flag")
            .bind::<Text, _>(name)
            .get_result(conn)?;
    Ok(row.flag)
}

/// Creates login user `name` in `role`'s group with `password` (stored as a
/// SCRAM-SHA-256 verifier). Needs CREATEROLE (the database owner or an admin).
pub fn add_user(conn: &mut PgConnection, name: &str, role: Role, password: &str) -> Result<User> {
    check_user_name(name)?;
    if password.is_empty() {
        return Err(Error::InvalidInput(
            "password: expected a non-empty password".into(),
        ));
    }
    conn.transaction(|conn| {
        if role_exists(conn, name)? {
            return Err(Error::AlreadyExists(format!("user \"{name}\"")));
        }
        if !role_exists(conn, role.group())? {
            return Err(Error::NotFound(format!(
                "group role {} (run `hurricane-db migrate` first)",
                role.group()
            )));
        }
        // The verifier holds only [A-Za-z0-9+/=$:]: safe inside a literal.
        let verifier = postgres_protocol::password::scram_sha_256(password.as_bytes());
        diesel::sql_query(format!(
            "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '{verifier}' IN ROLE {}",
            quote_ident(name),
            role.group()
        ))
        .execute(conn)?;
        Ok(User {
            name: name.to_string(),
            role,
        })
    })
}

/// Drops login user `name`, which must be a member of one of our groups (this never
/// drops other roles of the cluster).
pub fn remove_user(conn: &mut PgConnection, name: &str) -> Result<User> {
    check_user_name(name)?;
    conn.transaction(|conn| {
        let user = list_users(conn)?
            .into_iter()
            .find(|u| u.name == name)
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "user \"{name}\" in hurricane_writer or hurricane_reader"
                ))
            })?;
        diesel::sql_query(format!("DROP ROLE {}", quote_ident(name))).execute(conn)?;
        Ok(user)
    })
}

#[derive(QueryableByName)]
struct Membership {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    grp: String,
}

/// Login users of the two groups, by name.
pub fn list_users(conn: &mut PgConnection) -> Result<Vec<User>> {
    let rows: Vec<Membership> = diesel::sql_query(
        "SELECT u.rolname::text AS name, g.rolname::text AS grp \
         FROM pg_auth_members m \
         JOIN pg_roles g ON g.oid = m.roleid \
         JOIN pg_roles u ON u.oid = m.member \
         WHERE g.rolname IN ('hurricane_writer', 'hurricane_reader') AND u.rolcanlogin \
         ORDER BY u.rolname, g.rolname",
    )
    .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|m| Role::from_group(&m.grp).map(|role| User { name: m.name, role }))
        .collect())
}

/// Double-quotes an SQL identifier (role names are identifiers, not bind parameters).
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}
