//! `hurricane_db`: the shared PostgreSQL data layer for the International Hurricane
//! Watchgroup's track data.
//!
//! Start with [`Db`]: it owns the connection pool and runs every unit of work as a
//! closure that commits or rolls back. [`schema`] and [`models`] mirror the
//! `hurricanes` table; migrations are embedded ([`db::MIGRATIONS`]).

pub mod audit;
pub mod cluster;
pub mod config;
pub mod curation;
pub mod db;
pub mod error;
pub mod ingest;
pub mod mask;
pub mod models;
pub mod observations;
pub mod pool;
pub mod queries;
pub mod roles;
#[rustfmt::skip]
pub mod schema;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use db::{Db, DbOptions, MigrationStatus, PoolState, PooledConn};

/// The README's Rust examples compile as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
pub use error::{Error, Result};
pub use models::{Hurricane, HurricaneChanges, NewHurricane, Storm};
