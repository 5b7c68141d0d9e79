//! Validated observations to COPY data, in PostgreSQL's text or binary format.
//!
//! Which one is faster on our schema is measured by `bench_load`
//! (crates/hurricane-db-cli/benches, its `binary/text` ratio), and the faster is the
//! default: text. Binary spares the server from parsing numerics and timestamps, but
//! that parsing is a small part of a load's server time (index entries, foreign-key
//! checks and the audit trigger are most of it), and on PostgreSQL 15 the server's
//! binary COPY of the IHW rows took longer than its text COPY.

use chrono::NaiveDate;

use super::parse::{Decimal, Observation};

/// The COPY wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CopyFormat {
    /// PostgreSQL's binary COPY format.
    Binary,
    /// The tab-separated text format (the default: measured faster on this schema).
    #[default]
    Text,
}

impl CopyFormat {
    pub(crate) fn diesel(self) -> diesel::pg::CopyFormat {
        match self {
            CopyFormat::Binary => diesel::pg::CopyFormat::Binary,
            CopyFormat::Text => diesel::pg::CopyFormat::Text,
        }
    }

    /// Bytes that open the stream.
    pub(crate) fn begin(self, out: &mut Vec<u8>) {
        if self == CopyFormat::Binary {
            out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
            out.extend_from_slice(&0i32.to_be_bytes()); // flags
            out.extend_from_slice(&0i32.to_be_bytes()); // header extension length
        }
    }

    /// Bytes that close the stream.
    pub(crate) fn end(self, out: &mut Vec<u8>) {
        if self == CopyFormat::Binary {
            out.extend_from_slice(&(-1i16).to_be_bytes());
        }
    }

    /// Appends one row of an IHW file: the 11 IHW columns only, as
    /// [`Columns::Ihw`] names them in the COPY statement.
    pub(crate) fn ihw_row(self, o: &Observation<'_>, out: &mut Vec<u8>) {
        match self {
            CopyFormat::Binary => binary_row(o, IHW_COLUMNS, out),
            CopyFormat::Text => text_row(o, out),
        }
    }

    /// Appends one row of a HURDAT2 file: every column in table order, the IHW ones
    /// and then `extra` ([`Columns::All`]).
    pub(crate) fn hurdat2_row(self, o: &Observation<'_>, extra: &Extra<'_>, out: &mut Vec<u8>) {
        match self {
            CopyFormat::Binary => {
                binary_row(o, IHW_COLUMNS + EXTRA_COLUMNS, out);
                binary_extra(extra, out);
            }
            CopyFormat::Text => {
                text_row(o, out);
                text_extra(extra, out);
            }
        }
    }
}

/// The columns a load's COPY carries: what its rows hold ([`CopyFormat::ihw_row`],
/// [`CopyFormat::hurdat2_row`]) and what its statement names (`merge::copy`).
///
/// An IHW file leaves the 16 HURDAT2 columns out rather than sending them as NULLs:
/// its text rows are 86 bytes instead of 134, and a server-side COPY of the same
/// 35,486 rows from a file took about 7% less time (PostgreSQL 15, by hand). Over
/// the wire the gain showed only with 8 KiB messages (`FLUSH_AT` in ingest/mod.rs);
/// `bench_load` prints both sides' server COPY time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Columns {
    /// The 11 IHW columns; the HURDAT2 ones stay NULL (or, on a merge, as stored).
    Ihw,
    /// Every column of `hurricanes`, in table order.
    All,
}

/// The HURDAT2 columns of one row (after `shape_length`, in table order).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Extra<'a> {
    pub atcf_id: &'a str,
    /// `None` when the record identifier is blank.
    pub record_id: Option<u8>,
    pub status: &'a str,
    /// r34 NE, SE, SW, NW, then r50, then r64; `None` for -999.
    pub radii: [Option<i16>; 12],
    pub rmw: Option<i16>,
}

/// Columns of `hurricanes`: 11 IHW columns and 16 HURDAT2 ones.
const IHW_COLUMNS: i16 = 11;
const EXTRA_COLUMNS: i16 = 16;

fn binary_extra(e: &Extra<'_>, out: &mut Vec<u8>) {
    const NULL: [u8; 4] = (-1i32).to_be_bytes();
    field(out, e.atcf_id.as_bytes());
    match e.record_id {
        Some(r) => field(out, &[r]),
        None => out.extend_from_slice(&NULL),
    }
    field(out, e.status.as_bytes());
    for v in e.radii.iter().chain(std::iter::once(&e.rmw)) {
        match v {
            Some(v) => field(out, &v.to_be_bytes()),
            None => out.extend_from_slice(&NULL),
        }
    }
}

fn text_extra(e: &Extra<'_>, out: &mut Vec<u8>) {
    use std::io::Write;
    // text_row ended the line: reopen it.
    out.pop();
    out.push(b'\t');
    escaped(out, e.atcf_id);
    out.push(b'\t');
    match e.record_id {
        Some(r) => out.push(r),
        None => out.extend_from_slice(b"\\N"),
    }
    out.push(b'\t');
    escaped(out, e.status);
    for v in e.radii.iter().chain(std::iter::once(&e.rmw)) {
        match v {
            Some(v) => {
                let _ = write!(out, "\t{v}");
            }
            None => out.extend_from_slice(b"\t\\N"),
        }
    }
    out.push(b'\n');
}

/// The IHW columns of one binary row, which holds `columns` fields in all.
fn binary_row(o: &Observation<'_>, columns: i16, out: &mut Vec<u8>) {
    out.extend_from_slice(&columns.to_be_bytes());
    field(out, &o.fid.to_be_bytes());
    field(out, &timestamp_micros(o).to_be_bytes());
    field(out, &o.btid.to_be_bytes());
    field(out, o.name.as_bytes());
    numeric(out, &o.lat);
    numeric(out, &o.long);
    field(out, &o.wind_kts.to_be_bytes());
    match o.pressure {
        Some(p) => field(out, &p.to_be_bytes()),
        None => out.extend_from_slice(&(-1i32).to_be_bytes()),
    }
    field(out, o.cat.as_bytes());
    field(out, o.basin.as_bytes());
    numeric(out, &o.shape_length);
}

fn field(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// Microseconds since 2000-01-01 00:00 UTC, PostgreSQL's timestamptz epoch.
fn timestamp_micros(o: &Observation<'_>) -> i64 {
    const PG_EPOCH: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
        Some(d) => d,
        None => panic!("2000-01-01 is a date"),
    };
    let days = o.date.signed_duration_since(PG_EPOCH).num_days();
    (days * 86_400 + i64::from(o.hour) * 3_600 + i64::from(o.minute) * 60) * 1_000_000
}

/// PostgreSQL's binary numeric: base-10000 digit groups aligned on the decimal point.
fn numeric(out: &mut Vec<u8>, d: &Decimal<'_>) {
    let mut groups: [i16; 8] = [0; 8];
    let mut n = 0;
    // Integer part: groups of four from the right.
    let int_groups = d.int.len().div_ceil(4);
    let lead = int_groups * 4 - d.int.len();
    for g in 0..int_groups {
        let mut v = 0i16;
        for k in 0..4 {
            let idx = (g * 4 + k) as isize - lead as isize;
            let digit = if idx < 0 {
                0
            } else {
                d.int[idx as usize] - b'0'
            };
            v = v * 10 + i16::from(digit);
        }
        groups[n] = v;
        n += 1;
    }
    // Fraction: groups of four from the left, zero-padded on the right.
    let frac_groups = d.frac.len().div_ceil(4);
    for g in 0..frac_groups {
        let mut v = 0i16;
        for k in 0..4 {
            let digit = d.frac.get(g * 4 + k).map_or(0, |c| c - b'0');
            v = v * 10 + i16::from(digit);
        }
        groups[n] = v;
        n += 1;
    }
    let mut weight = int_groups as i16 - 1;
    let mut start = 0;
    while start < n && groups[start] == 0 {
        start += 1;
        weight -= 1;
    }
    let mut end = n;
    while end > start && groups[end - 1] == 0 {
        end -= 1;
    }
    let digits = &groups[start..end];
    let (weight, sign) = if digits.is_empty() {
        (0i16, 0x0000u16)
    } else if d.negative {
        (weight, 0x4000)
    } else {
        (weight, 0x0000)
    };
    let dscale = d.frac.len() as i16;
    out.extend_from_slice(&(8 + 2 * digits.len() as i32).to_be_bytes());
    out.extend_from_slice(&(digits.len() as i16).to_be_bytes());
    out.extend_from_slice(&weight.to_be_bytes());
    out.extend_from_slice(&sign.to_be_bytes());
    out.extend_from_slice(&dscale.to_be_bytes());
    for g in digits {
        out.extend_from_slice(&g.to_be_bytes());
    }
}

fn text_row(o: &Observation<'_>, out: &mut Vec<u8>) {
    use std::io::Write;
    // Writing to a Vec cannot fail.
    let _ = write!(
        out,
        "{}\t{} {:02}:{:02}:00+00\t{}\t",
        o.fid,
        o.date.format("%Y-%m-%d"),
        o.hour,
        o.minute,
        o.btid
    );
    escaped(out, o.name);
    out.push(b'\t');
    out.extend_from_slice(o.lat.text);
    out.push(b'\t');
    out.extend_from_slice(o.long.text);
    let _ = write!(out, "\t{}\t", o.wind_kts);
    match o.pressure {
        Some(p) => {
            let _ = write!(out, "{p}");
        }
        None => out.extend_from_slice(b"\\N"),
    }
    out.push(b'\t');
    escaped(out, o.cat);
    out.push(b'\t');
    escaped(out, o.basin);
    out.push(b'\t');
    out.extend_from_slice(o.shape_length.text);
    out.push(b'\n');
}

fn escaped(out: &mut Vec<u8>, s: &str) {
    for &b in s.as_bytes() {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => out.push(b),
        }
    }
}
