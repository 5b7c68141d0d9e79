//! The audit trail: who changed which row, from what to what.
//!
//! Triggers on `hurricanes` (migration `audit_trail`) write one `edits` row per changed
//! row, naming the application end user set by [`crate::Db::transaction_as`] and the login
//! role (`session_user`). This module reads it back.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::Serialize;
use serde_json::Value;

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

/// Edits of one observation, oldest first ([`crate::Db::history`] on a pooled
/// connection).
pub fn observation_edits(conn: &mut PgConnection, fid: i32) -> Result<Vec<Edit>> {
    Ok(edits::table
        .filter(edits::table_name.eq("hurricanes"))
        .filter(edits::row_id.eq(fid))
        .order(edits::id.asc())
        .select(Edit::as_select())
        .load(conn)?)
}

/// One recorded load (`loads`, migration 000008): a file loaded by `hurricane-db load`
/// (or [`crate::ingest::load_path`]), who loaded it and what it did.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Serialize)]
#[diesel(table_name = crate::schema::loads, check_for_backend(diesel::pg::Pg))]
pub struct Load {
    /// Load number (increasing); `edits.load_id`.
    pub id: i64,
    /// The file's name (no directory).
    pub file_name: String,
    /// `ihw` or `hurdat2`.
    pub format: String,
    /// The file's size in bytes, if known.
    pub size_bytes: Option<i64>,
    /// When the load started writing, UTC.
    pub started_at: DateTime<Utc>,
    /// When it finished (always set once committed).
    pub finished_at: Option<DateTime<Utc>>,
    /// The login role that loaded.
    pub db_user: String,
    /// The application user the audit trail names (`load:FILE_NAME` by default).
    pub app_user: Option<String>,
    /// Good observations in the file.
    pub rows_in_file: Option<i64>,
    /// Observations inserted.
    pub inserted: Option<i64>,
    /// Observations updated.
    pub updated: Option<i64>,
    /// Observations unchanged.
    pub unchanged: Option<i64>,
    /// Bad rows quarantined.
    pub rejected: Option<i64>,
    /// Stored observations the file lacks (left alone).
    pub not_in_file: Option<i64>,
    /// Storms in the file.
    pub storms_in_file: Option<i64>,
    /// Storms added.
    pub storms_added: Option<i64>,
    /// Stored storms revised.
    pub storms_revised: Option<i64>,
    /// Stored storms unchanged.
    pub storms_unchanged: Option<i64>,
    /// Stored storms the file lacks (left alone).
    pub storms_not_in_file: Option<i64>,
}

impl Load {
    /// `load 2  2026-11-27 08:01:02 UTC  hurdat2  hurdat2-next.txt  app user load:..., db user x:
    /// 8626 rows, 8 inserted, ...; 293 storms: 3 added, ...`.
    pub fn describe(&self) -> String {
        let n = |v: Option<i64>| v.map_or("?".to_string(), |v| v.to_string());
        format!(
            "load {}  {}  {}  {}  app user {}, db user {}: {} rows, {} inserted, {} updated, \
             {} unchanged, {} rejected, {} not in file; {} storms: {} added, {} revised, \
             {} unchanged, {} not in file",
            self.id,
            self.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
            self.format,
            self.file_name,
            self.app_user.as_deref().unwrap_or("-"),
            self.db_user,
            n(self.rows_in_file),
            n(self.inserted),
            n(self.updated),
            n(self.unchanged),
            n(self.rejected),
            n(self.not_in_file),
            n(self.storms_in_file),
            n(self.storms_added),
            n(self.storms_revised),
            n(self.storms_unchanged),
            n(self.storms_not_in_file),
        )
    }
}

/// Every recorded load, oldest first ([`crate::Db::loads`] on a pooled connection).
pub fn list_loads(conn: &mut PgConnection) -> Result<Vec<Load>> {
    use crate::schema::loads;
    Ok(loads::table
        .order(loads::id.asc())
        .select(Load::as_select())
        .load(conn)?)
}

/// The edit ids the selected loads' edits lie in, `(after, upto]`, from `loads`
/// (migration 000013). Unbounded where a bound is not recorded: a load still running,
/// or recorded before that migration without any edit (none of its own to find).
fn edit_ids(conn: &mut PgConnection, selection: LoadSelection) -> Result<(i64, i64)> {
    use crate::schema::loads;
    use diesel::dsl::max;
    let bounds = match selection {
        LoadSelection::Only(n) => loads::table
            .filter(loads::id.eq(n))
            .select((loads::edits_after, loads::edits_upto))
            .first::<(Option<i64>, Option<i64>)>(conn)
            .optional()?
            .unwrap_or_default(),
        // Later loads began after N committed: their edits come after N's last one
        // (after the last recorded range up to N, for loads that made none).
        LoadSelection::Since(n) => (
            loads::table
                .filter(loads::id.le(n))
                .select(max(loads::edits_upto))
                .first::<Option<i64>>(conn)?,
            None,
        ),
    };
    Ok((bounds.0.unwrap_or(0), bounds.1.unwrap_or(i64::MAX)))
}

/// Which loads [`storm_changes`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadSelection {
    /// Load `N` only.
    Only(i64),
    /// Every load after `N` (`Since(0)`: all of them).
    Since(i64),
}

/// What happened to a storm in the selected loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StormChange {
    /// Its first observations were inserted by the selected loads.
    Added,
    /// It was stored before, and observations were inserted or updated.
    Revised,
}

/// One observation a load inserted or updated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservationChange {
    /// The load that made the change.
    pub load_id: i64,
    /// The edit (`edits.id`).
    pub edit_id: i64,
    /// The observation's FID.
    pub fid: i32,
    /// Its time, UTC (`2005-08-28 18:00Z`).
    pub time: String,
    /// `I` inserted or `U` updated.
    pub action: String,
    /// For an update, the fields that changed.
    pub fields: Vec<FieldChange>,
}

/// One storm a load (or several) changed, with its observations' changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StormChanges {
    /// The storm (BTID).
    pub btid: i16,
    /// Its ATCF id, if any.
    pub atcf_id: Option<String>,
    /// Its name.
    pub name: String,
    /// Its year (of its first observation).
    pub year: i32,
    /// Added or revised.
    pub change: StormChange,
    /// Observations inserted.
    pub inserted: u64,
    /// Observations updated.
    pub updated: u64,
    /// Field by field: every update, and the inserts of a revised storm (an added
    /// storm's inserts are only counted), in the order they were recorded.
    pub observations: Vec<ObservationChange>,
}

impl StormChanges {
    /// `AL122005 KATRINA 2005` (`BTID 17 KATRINA 1851` without ATCF id).
    pub fn label(&self) -> String {
        match &self.atcf_id {
            Some(id) => format!("{id} {} {}", self.name, self.year),
            None => format!("BTID {} {} {}", self.btid, self.name, self.year),
        }
    }

    /// `AL122005 KATRINA 2005: revised, 0 inserted, 1 updated`.
    pub fn describe(&self) -> String {
        match self.change {
            StormChange::Added => format!(
                "{}: added, {} observations inserted",
                self.label(),
                self.inserted
            ),
            StormChange::Revised => format!(
                "{}: revised, {} inserted, {} updated",
                self.label(),
                self.inserted,
                self.updated
            ),
        }
    }
}

impl ObservationChange {
    /// `wind_kts 150 -> 155, pressure 905 -> 902` or `inserted`.
    pub fn describe(&self) -> String {
        if self.action == "I" {
            return "inserted".to_string();
        }
        self.fields
            .iter()
            .map(|c| format!("{} {} -> {}", c.field, plain(&c.old), plain(&c.new)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A JSON value as a person writes it: strings unquoted, NULL for null.
fn plain(v: &Value) -> String {
    match v {
        Value::Null => "NULL".to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `2005-08-28T18:00:00+00:00` (the trail's UTC timestamps) as `2005-08-28 18:00Z`.
fn short_time(v: Option<&Value>) -> String {
    let Some(Value::String(s)) = v else {
        return "?".to_string();
    };
    DateTime::parse_from_rfc3339(s).map_or_else(
        |_| s.clone(),
        |t| t.with_timezone(&Utc).format("%Y-%m-%d %H:%MZ").to_string(),
    )
}

/// What the selected loads changed, storm by storm (BTID order) and field by field,
/// read from the audit trail (`edits` rows with that `load_id`). A storm is *added*
/// when its first edit ever is one of the selected loads' (its first observations came
/// with them), else *revised*. Observations a load left unchanged or that the file
/// lacked have no edit and do not appear.
pub fn storm_changes(
    conn: &mut PgConnection,
    selection: LoadSelection,
) -> Result<Vec<StormChanges>> {
    use crate::schema::storms;
    use std::collections::{BTreeMap, HashMap, HashSet};
    type Row = (
        i64,
        Option<i64>,
        String,
        Option<i32>,
        Option<Value>,
        Option<Value>,
    );
    let query = edits::table
        .filter(edits::table_name.eq("hurricanes"))
        .select((
            edits::id,
            edits::load_id,
            edits::action,
            edits::row_id,
            edits::old_row,
            edits::new_row,
        ))
        .order(edits::id.asc());
    // The loads' edit-id ranges (migration 000013) let the primary key find their
    // edits; load_id then keeps exactly theirs.
    let (after, upto) = edit_ids(conn, selection)?;
    let query = query.filter(edits::id.gt(after)).filter(edits::id.le(upto));
    let rows: Vec<Row> = match selection {
        LoadSelection::Only(n) => query.filter(edits::load_id.eq(n)).load(conn)?,
        LoadSelection::Since(n) => query.filter(edits::load_id.gt(n)).load(conn)?,
    };
    let btid_of = |old: &Option<Value>, new: &Option<Value>| -> Option<i16> {
        new.as_ref()
            .or(old.as_ref())
            .and_then(|r| r.get("btid"))
            .and_then(Value::as_i64)
            .and_then(|b| i16::try_from(b).ok())
    };
    let mut by_storm: BTreeMap<i16, Vec<&Row>> = BTreeMap::new();
    for row in &rows {
        if let Some(b) = btid_of(&row.4, &row.5) {
            by_storm.entry(b).or_default().push(row);
        }
    }
    if by_storm.is_empty() {
        return Ok(Vec::new());
    }
    let btids: Vec<i16> = by_storm.keys().copied().collect();
    // Each storm's first edit ever: added when it is one of the selected edits.
    #[derive(QueryableByName)]
    struct First {
        #[diesel(sql_type = diesel::sql_types::SmallInt)]
        btid: i16,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        first_id: i64,
    }
    let firsts: Vec<First> = diesel::sql_query(
        "SELECT b AS btid, min(e.id) AS first_id FROM edits e, \
         LATERAL (SELECT (coalesce(e.new_row, e.old_row)->>'btid')::smallint AS b) x \
         WHERE e.table_name = 'hurricanes' AND b = ANY($1) GROUP BY b",
    )
    .bind::<diesel::sql_types::Array<diesel::sql_types::SmallInt>, _>(&btids)
    .load(conn)?;
    let selected: HashSet<i64> = rows.iter().map(|r| r.0).collect();
    let added: HashSet<i16> = firsts
        .iter()
        .filter(|f| selected.contains(&f.first_id))
        .map(|f| f.btid)
        .collect();
    let meta: HashMap<i16, (Option<String>, String, i32)> = storms::table
        .filter(storms::btid.eq_any(&btids))
        .select((storms::btid, storms::atcf_id, storms::name, storms::year))
        .load::<(i16, Option<String>, String, i32)>(conn)?
        .into_iter()
        .map(|(b, a, n, y)| (b, (a, n, y)))
        .collect();
    let mut out = Vec::with_capacity(by_storm.len());
    for (btid, edits) in by_storm {
        let change = if added.contains(&btid) {
            StormChange::Added
        } else {
            StormChange::Revised
        };
        // A storm the table no longer has: name and year from its last edit.
        let (atcf_id, name, year) = meta.get(&btid).cloned().unwrap_or_else(|| {
            let r = edits.last().and_then(|e| e.5.as_ref().or(e.4.as_ref()));
            let s = |k: &str| {
                r.and_then(|r| r.get(k))
                    .and_then(Value::as_str)
                    .map(String::from)
            };
            let year = s("timestamp")
                .and_then(|t| t.get(..4).and_then(|y| y.parse().ok()))
                .unwrap_or(0);
            (s("atcf_id"), s("name").unwrap_or_default(), year)
        });
        let mut storm = StormChanges {
            btid,
            atcf_id,
            name,
            year,
            change,
            inserted: 0,
            updated: 0,
            observations: Vec::new(),
        };
        for e in edits {
            let edit = Edit {
                id: e.0,
                table_name: "hurricanes".into(),
                row_id: e.3,
                action: e.2.clone(),
                app_user: None,
                db_user: String::new(),
                old_row: e.4.clone(),
                new_row: e.5.clone(),
                query: None,
                recorded_at: DateTime::<Utc>::MIN_UTC,
            };
            match edit.action.as_str() {
                "I" => storm.inserted += 1,
                "U" => storm.updated += 1,
                _ => {}
            }
            if edit.action == "I" && change == StormChange::Added {
                continue;
            }
            let row = edit.new_row.as_ref().or(edit.old_row.as_ref());
            storm.observations.push(ObservationChange {
                load_id: e.1.unwrap_or_default(),
                edit_id: e.0,
                fid: e.3.unwrap_or_default(),
                time: short_time(row.and_then(|r| r.get("timestamp"))),
                action: edit.action.clone(),
                fields: edit.changes(),
            });
        }
        out.push(storm);
    }
    Ok(out)
}
