//! `hurricane-db user ...` and `hurricane-db history`.

use clap::Subcommand;

use hurricane_db::roles::{self, Role};
use hurricane_db::Db;
use hurricane_db::{Error, Result};

/// Environment variable that carries a new user's password (never argv).
pub const PASSWORD_ENV: &str = "HURRICANE_DB_PASSWORD";

#[derive(Subcommand, Debug)]
pub enum UserAction {
    /// Create a login user in a group; the password comes from HURRICANE_DB_PASSWORD
    /// or, on a terminal, from a prompt without echo.
    Add {
        name: String,
        #[arg(long, value_enum)]
        role: crate::args::RoleArg,
    },
    /// Drop a login user of the writer or reader group.
    Remove { name: String },
    /// List login users and their group.
    List,
}

pub fn run(db: &Db, action: UserAction) -> Result<()> {
    match action {
        UserAction::Add { name, role } => {
            let role = Role::from(role);
            roles::check_user_name(&name)?;
            let password = password_for(&name)?;
            let mut conn = db.conn()?;
            let user = roles::add_user(&mut conn, &name, role, &password)?;
            println!("user add: {} in {}", user.name, role.group());
        }
        UserAction::Remove { name } => {
            let mut conn = db.conn()?;
            let user = roles::remove_user(&mut conn, &name)?;
            println!("user remove: {} (was in {})", user.name, user.role.group());
        }
        UserAction::List => {
            let mut conn = db.conn()?;
            let users = roles::list_users(&mut conn)?;
            let width = users.iter().map(|u| u.name.len()).max().unwrap_or(4).max(4);
            println!("{:<width$}  group", "user");
            for u in &users {
                println!("{:<width$}  {}", u.name, u.role.group());
            }
            println!("user list: {} users", users.len());
        }
    }
    Ok(())
}

/// The new password: from the environment, else a no-echo prompt on a terminal.
fn password_for(name: &str) -> Result<String> {
    use std::io::IsTerminal;
    if let Ok(p) = std::env::var(PASSWORD_ENV) {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::InvalidInput(format!(
            "no password for {name}: set {PASSWORD_ENV} or run on a terminal to be prompted"
        )));
    }
    let first = rpassword::prompt_password(format!("password for {name}: "))
        .map_err(|e| Error::io("terminal", e))?;
    let again = rpassword::prompt_password("again: ").map_err(|e| Error::io("terminal", e))?;
    if first != again {
        return Err(Error::InvalidInput("the two passwords differ".into()));
    }
    Ok(first)
}

pub fn history(db: &Db, fid: i32) -> Result<()> {
    let edits = db.history(fid)?;
    // Like `track` for an unknown storm: an FID that is not there and never was.
    if edits.is_empty() {
        match db.observation(fid) {
            Err(Error::NotFound(_)) => {
                return Err(Error::NotFound(format!(
                    "observation with FID {fid} (no row and no edits)"
                )))
            }
            Err(e) => return Err(e),
            Ok(_) => {}
        }
    }
    for e in &edits {
        println!("{}", e.describe());
    }
    let users: std::collections::BTreeSet<&str> =
        edits.iter().filter_map(|e| e.app_user.as_deref()).collect();
    println!(
        "history: fid {fid}, {} edits, app users: {}",
        edits.len(),
        if users.is_empty() {
            "none".to_string()
        } else {
            users.into_iter().collect::<Vec<_>>().join(", ")
        }
    );
    Ok(())
}
