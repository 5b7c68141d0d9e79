//! `hurricane-db loads` and `hurricane-db changes`: what each recorded load (release)
//! of a file did, from the `loads` table and the audit trail.

use hurricane_db::audit::{LoadSelection, StormChange};
use hurricane_db::Db;
use hurricane_db::{Error, Result};

/// Pretty JSON of `value` on stdout.
fn print_json<T: serde::Serialize>(value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::io("stdout", std::io::Error::other(e)))?;
    println!("{text}");
    Ok(())
}

/// `hurricane-db loads [--json]`.
pub fn loads(db: &Db, json: bool) -> Result<()> {
    let loads = db.loads()?;
    let n = |v: Option<i64>| v.map_or("?".to_string(), |v| v.to_string());
    if json {
        print_json(&loads)?;
    } else {
        for l in &loads {
            println!("{}", l.describe());
        }
    }
    let last = loads.last();
    let line = format!(
        "loads: {} recorded{}",
        loads.len(),
        last.map_or(String::new(), |l| format!(
            ", last {} ({}, {} inserted, {} updated)",
            l.id,
            l.file_name,
            n(l.inserted),
            n(l.updated)
        ))
    );
    if json {
        eprintln!("{line}");
    } else {
        println!("{line}");
    }
    Ok(())
}

/// `hurricane-db changes --load N | --since-load N [--json]`.
pub fn changes(db: &Db, load: Option<i64>, since: Option<i64>, json: bool) -> Result<()> {
    let selection = match (load, since) {
        (Some(n), None) => LoadSelection::Only(n),
        (None, Some(n)) => LoadSelection::Since(n),
        _ => {
            return Err(Error::InvalidInput(
                "changes: expected --load N or --since-load N".into(),
            ))
        }
    };
    let all = db.loads()?;
    let loads: Vec<_> = all
        .into_iter()
        .filter(|l| match selection {
            LoadSelection::Only(n) => l.id == n,
            LoadSelection::Since(n) => l.id > n,
        })
        .collect();
    if let LoadSelection::Only(n) = selection {
        if loads.is_empty() {
            return Err(Error::NotFound(format!(
                "load {n} (`hurricane-db loads` lists them)"
            )));
        }
    }
    let storms = db.load_changes(selection)?;
    let count = |c: StormChange| storms.iter().filter(|s| s.change == c).count();
    let inserted: u64 = storms.iter().map(|s| s.inserted).sum();
    let updated: u64 = storms.iter().map(|s| s.updated).sum();
    let ids: Vec<String> = loads.iter().map(|l| l.id.to_string()).collect();
    let summary = format!(
        "changes: {} load{} ({}), {} storms added, {} revised, {} observations inserted, {} updated",
        loads.len(),
        if loads.len() == 1 { "" } else { "s" },
        if ids.is_empty() {
            "none".to_string()
        } else {
            ids.join(", ")
        },
        count(StormChange::Added),
        count(StormChange::Revised),
        inserted,
        updated
    );
    if json {
        #[derive(serde::Serialize)]
        struct Out<'a> {
            loads: &'a [hurricane_db::audit::Load],
            storms: &'a [hurricane_db::audit::StormChanges],
        }
        let out = Out {
            loads: &loads,
            storms: &storms,
        };
        print_json(&out)?;
        eprintln!("{summary}");
        return Ok(());
    }
    // Name each observation's load only when more than one load changed something.
    let changed_by: std::collections::BTreeSet<i64> = storms
        .iter()
        .flat_map(|s| s.observations.iter().map(|o| o.load_id))
        .collect();
    let several = changed_by.len() > 1;
    for l in &loads {
        println!("{}", l.describe());
    }
    for s in &storms {
        println!("{}", s.describe());
        let who = match &s.atcf_id {
            Some(id) => format!("{id} {}", s.name),
            None => format!("BTID {} {}", s.btid, s.name),
        };
        for o in &s.observations {
            let load = if several {
                format!(" (load {})", o.load_id)
            } else {
                String::new()
            };
            println!("  {who} {}: {}{load}", o.time, o.describe());
        }
    }
    println!("{summary}");
    Ok(())
}
