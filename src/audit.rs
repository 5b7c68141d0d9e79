//! The audit trail: who changed which row, from what to what.
//!
//! Triggers on `hurricanes` (migration `audit_trail`) write one `edits` row per changed
//! row, naming the application end user set by [`Db::transaction_as`] and the login
//! role (`session_user`). This module reads it back.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

use crate::db::Db;
use crate::error::Result;
use crate::schema::edits;

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = edits, check_for_backend(diesel::pg::Pg))]
pub struct Edit {
    /// Increasing ID: one row's edits in `id` order are its history.
    pub id: i64,
    /// The table changed (`hurricanes`).
    pub table_name: String,
    /// The FID (NULL for a TRUNCATE).
    pub row_id: Option<i32>,
    /// I(nsert), U(pdate), D(elete) or T(runcate).
    pub action: String,
    /// The application's end user, if one was named.
    pub app_user: Option<String>,
    /// The login role that made the change.
    pub db_user: String,
    /// The row before the change as JSON (update and delete; `None` otherwise).
    pub old_row: Option<Value>,
    /// The row after the change as JSON (insert and update; `None` otherwise).
    pub new_row: Option<Value>,
    /// The statement's text (first 2000 characters).
    pub query: Option<String>,
    /// When the change was recorded (transaction start time), UTC.
    pub recorded_at: DateTime<Utc>,
}

/// One field an update changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// Column name, e.g. `wind_kts`.
    pub field: String,
    /// Value before the update (JSON `null` for NULL).
    pub old: Value,
    /// Value after the update.
    pub new: Value,
}

impl Edit {
    /// For an update, the fields whose value changed (in column order of the new row).
    pub fn changes(&self) -> Vec<FieldChange> {
        let (Some(Value::Object(old)), Some(Value::Object(new))) = (&self.old_row, &self.new_row)
        else {
            return Vec::new();
        };
        new.iter()
            .filter_map(|(field, n)| {
                let o = old.get(field).cloned().unwrap_or(Value::Null);
                (o != *n).then(|| FieldChange {
                    field: field.clone(),
                    old: o,
                    new: n.clone(),
                })
            })
            .collect()
    }

    /// `2026-11-25 20:41:07 UTC  U  alice (db: data_prod_user)  wind_kts: 80 -> 85`.
    pub fn describe(&self) -> String {
        let who = format!(
            "{} (db: {})",
            self.app_user.as_deref().unwrap_or("-"),
            self.db_user
        );
        let what = match self.action.as_str() {
            "U" => self
                .changes()
                .iter()
                .map(|c| format!("{}: {} -> {}", c.field, c.old, c.new))
                .collect::<Vec<_>>()
                .join("; "),
            "I" => "inserted".to_string(),
            "D" => "deleted".to_string(),
            "T" => "table truncated".to_string(),
            other => other.to_string(),
        };
        format!(
            "{}  {}  {who}  {what}",
            self.recorded_at.format("%Y-%m-%d %H:%M:%S UTC"),
            self.action
        )
    }
}

/// Edits of one observation, oldest first.
pub fn history(conn: &mut PgConnection, fid: i32) -> Result<Vec<Edit>> {
    Ok(edits::table
        .filter(edits::table_name.eq("hurricanes"))
        .filter(edits::row_id.eq(fid))
        .order(edits::id.asc())
        .select(Edit::as_select())
        .load(conn)?)
}

impl Db {
    /// The edits of observation `fid`, oldest first.
    pub fn history(&self, fid: i32) -> Result<Vec<Edit>> {
        self.read(|conn| history(conn, fid))
    }
}
