//! NOAA's HURDAT2 best-track text format, loaded through the same COPY + merge as the
//! IHW CSV.
//!
//! A file is a sequence of storms: a header line (`AL122005,            KATRINA,     34,`:
//! ATCF id, name, number of data lines) followed by its data lines
//! (`20050829, 1110, L, HU, 29.5N,  89.6W, 110,  920, ...`: date, time UTC, record
//! identifier, status, latitude, longitude, wind in knots, pressure in mb, then the
//! 34/50/64-kt wind radii NE SE SW NW in nautical miles, and in the newer format a 21st
//! field, the radius of maximum wind). Lines end in CRLF or LF, every line has a
//! trailing comma, -999 means missing. Fields are split on commas and trimmed, never
//! taken by column (one real line is misaligned: GENEVIEVE 2014's `HU ,23.1N, 177.0E`).
//! A line is a header when its first field does not start with a digit, so a header
//! whose count disagrees with the data lines that follow is caught and named.
//!
//! The IHW columns are derived the way `storm_data.csv` was derived from the two
//! shared NOAA files (checked observation by observation by `tests/hurdat2.rs`):
//!
//! - NAME as written, except `UNNAMED` -> `NOTNAMED`;
//! - CAT `H1`..`H5` by Saffir-Simpson wind (64-82, 83-95, 96-112, 113-136, 137+ kt)
//!   when the status is `HU`, else the status with `EX` -> `E`, `LO` -> `L`,
//!   `WV` -> `W` and the rest (`TS`, `TD`, `SD`, `SS`, `DB`, `ET`, `PT`, `ST`) as given.
//!   A `HU` line with less than 64 kt has no category and is rejected (none exists in
//!   the shared files);
//! - BASIN `North Atlantic` for `AL` ids, `Eastern Pacific` for `EP` and `CP`;
//! - PRESSURE -999 -> NULL; LAT/LONG signed decimals as written (S and W negative);
//! - Shape_Leng the straight distance in degrees to the storm's next observation,
//!   the short way across the date line (`sqrt(dlat² + dlon²)`, `dlon` at most 180),
//!   rounded to 6 decimals, 0 at the storm's last observation.
//!
//! One storm is buffered at a time (Shape_Leng needs the next observation; a storm
//! has at most a few hundred lines), so memory stays flat for any file.
//!
//! Numbering: each good row gets a provisional FID (its rank among the good rows of
//! the file) and BTID (its storm's rank). Into an empty table they are final: loading
//! the Atlantic file and then the Pacific file gives exactly storm_data.csv's FIDs and
//! BTIDs. Otherwise the merge ([`super::merge::finish_hurdat2`]) matches storms by
//! ATCF id and observations by (storm, time).
//!
//! Bad input: a bad data line is one error at its line; a bad header (ATCF id, name,
//! count, or a count that disagrees with the data lines) is one error at the header
//! line. Without a quarantine any error rejects the whole file. With `--quarantine`,
//! a bad data line is left out (the storm loads without it; Shape_Leng then runs to the
//! next good observation), and a bad header leaves out the whole storm: its header and
//! every data line go to the quarantine file (`LINE,ERROR,TEXT`).

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

use chrono::NaiveDate;

use super::encode::{CopyFormat, Extra};
use super::parse::{self, Bound, Observation, RowError};
use super::{copy_failed, Progress, Quarantine, FLUSH_AT};
use crate::codes::{Basin, Category};
use crate::error::{Error, Result};

/// Does this first line (a BOM allowed) open a HURDAT2 file? It does when its first
/// comma-separated field is an ATCF storm id: two capital letters and six digits.
pub(crate) fn is_header_line(line: &[u8]) -> bool {
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    let first = line
        .split(|&b| b == b',')
        .next()
        .unwrap_or(b"")
        .trim_ascii();
    is_atcf_id(first)
}

fn is_atcf_id(s: &[u8]) -> bool {
    s.len() == 8
        && s[..2].iter().all(u8::is_ascii_uppercase)
        && s[2..].iter().all(u8::is_ascii_digit)
}

/// Statuses HURDAT2 uses, in the order of NOAA's format notes (its documented nine,
/// then the three rare ones the Pacific file has): the [`Category::hurdat2_status`] of
/// every category (a test checks), as the `hurricanes.status` CHECK accepts them.
pub(crate) const STATUSES: [&str; 12] = [
    "HU", "TS", "TD", "EX", "SD", "SS", "LO", "WV", "DB", "ET", "PT", "ST",
];

/// Record identifiers (blank is allowed too). `R` is not in NOAA's format notes but
/// occurs in the Atlantic file (rapid-change detail in 2016).
pub(crate) const RECORD_IDS: &[u8] = b"CGILPRSTW";

/// Quarantine file header for HURDAT2 lines.
pub(super) const QUARANTINE_HEADER: [&str; 3] = ["LINE", "ERROR", "TEXT"];

/// The IHW category of a HURDAT2 observation: for `HU` the hurricane category of its
/// wind ([`Category::by_wind`]), else the category whose HURDAT2 status it is (`EX`
/// is `E`, `LO` is `L`, `WV` is `W`, the rest the same code). `None` for `HU` below
/// 64 kt and for an unknown status.
fn ihw_category(status: &str, wind_kts: i16) -> Option<Category> {
    match status {
        "HU" => Some(Category::by_wind(wind_kts)).filter(|c| c.saffir_simpson().is_some()),
        _ => Category::ALL
            .into_iter()
            .find(|c| c.saffir_simpson().is_none() && c.hurdat2_status() == status),
    }
}

/// One validated data line, owned (a storm is buffered until its last line).
struct Obs {
    line: u64,
    date: NaiveDate,
    hour: u32,
    minute: u32,
    record_id: Option<u8>,
    status: &'static str,
    cat: &'static str,
    /// Signed decimal text as written (`-94.8` for `94.8W`).
    lat: String,
    long: String,
    lat_f: f64,
    long_f: f64,
    wind_kts: i16,
    pressure: Option<i16>,
    radii: [Option<i16>; 12],
    rmw: Option<i16>,
}

struct Header {
    line: u64,
    atcf_id: String,
    name: String,
    basin: &'static str,
    count: u64,
    count_raw: String,
}

/// The storm being read.
struct Storm {
    header: Result<Header, RowError>,
    obs: Vec<Obs>,
    /// Data lines seen, good or bad (what the header's count is checked against).
    lines: u64,
    /// (date, hour, minute) -> line, to catch a time given twice.
    times: HashMap<(NaiveDate, u32, u32), u64>,
    /// Every line's text, kept only with a quarantine (a bad header sends them all).
    raw: Vec<(u64, String)>,
}

pub(super) struct H2Stream<'a, R: BufRead> {
    pub reader: Option<R>,
    pub source: &'a str,
    pub format: CopyFormat,
    pub max_errors: Option<usize>,
    pub quarantine: Option<&'a mut Quarantine>,
    pub progress: Option<&'a dyn Progress>,
    pub rows: u64,
    pub rejected: u64,
    pub errors: Vec<RowError>,
    pub fatal: Option<Error>,
    pub parse: Duration,
    /// ATCF ids seen -> header line.
    seen: HashMap<String, u64>,
    storms: i16,
    /// Highest FID and BTID stored: provisional numbers continue after them.
    fid_base: i32,
    btid_base: i16,
}

impl<'a, R: BufRead> H2Stream<'a, R> {
    pub fn new(
        reader: R,
        source: &'a str,
        format: CopyFormat,
        max_errors: Option<usize>,
        quarantine: Option<&'a mut Quarantine>,
        progress: Option<&'a dyn Progress>,
        (fid_base, btid_base): (i32, i16),
    ) -> Self {
        H2Stream {
            reader: Some(reader),
            source,
            format,
            max_errors,
            quarantine,
            progress,
            rows: 0,
            rejected: 0,
            errors: Vec::new(),
            fatal: None,
            parse: Duration::ZERO,
            seen: HashMap::new(),
            storms: 0,
            fid_base,
            btid_base,
        }
    }

    pub fn run(&mut self, sink: &mut dyn Write) -> Result<()> {
        let Some(mut reader) = self.reader.take() else {
            return Ok(());
        };
        let mut buf = Vec::with_capacity(FLUSH_AT + 4096);
        self.format.begin(&mut buf);
        let mut text = Vec::with_capacity(256);
        let mut line_no = 0u64;
        let mut bytes = 0u64;
        let mut storm: Option<Storm> = None;
        let mut last_tick = Instant::now();
        let mut parse_time = Duration::ZERO;
        loop {
            text.clear();
            let n = reader.read_until(b'\n', &mut text).map_err(|e| {
                if e.kind() == std::io::ErrorKind::InvalidData {
                    // LineLimit's message already says file:line.
                    Error::InvalidInput(format!("{}:{e}", self.source))
                } else {
                    Error::io(self.source, e)
                }
            })?;
            if n == 0 {
                break;
            }
            let t = Instant::now();
            line_no += 1;
            bytes += n as u64;
            let mut line: &[u8] = &text;
            line = line.strip_suffix(b"\n").unwrap_or(line);
            line = line.strip_suffix(b"\r").unwrap_or(line);
            if line_no == 1 {
                line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
            }
            if line.trim_ascii().is_empty() {
                continue;
            }
            let mut fields: Vec<&[u8]> =
                line.split(|&b| b == b',').map(<[u8]>::trim_ascii).collect();
            if fields.len() > 1 && fields.last().is_some_and(|f| f.is_empty()) {
                fields.pop();
            }
            let keep_raw = self.quarantine.is_some();
            if fields[0].first().is_some_and(u8::is_ascii_digit) {
                match storm.as_mut() {
                    None => {
                        let e = RowError::line(
                            line_no,
                            "expected a storm header line (e.g. AL011851, UNNAMED, 14,) before the first data line",
                        );
                        self.reject(e, line)?;
                    }
                    Some(s) => {
                        s.lines += 1;
                        if keep_raw {
                            s.raw
                                .push((line_no, String::from_utf8_lossy(line).into_owned()));
                        }
                        match parse_data(line_no, &fields).and_then(|o| {
                            let key = (o.date, o.hour, o.minute);
                            match s.times.insert(key, line_no) {
                                Some(first) => Err(RowError::field(
                                    line_no,
                                    "TIME",
                                    fields[1],
                                    format!(
                                        "expected each time once per storm: {} {} is already on line {first}",
                                        String::from_utf8_lossy(fields[0]),
                                        String::from_utf8_lossy(fields[1])
                                    ),
                                )),
                                None => Ok(o),
                            }
                        }) {
                            Ok(o) => s.obs.push(o),
                            Err(e) => self.reject(e, line)?,
                        }
                    }
                }
            } else {
                if let Some(done) = storm.take() {
                    self.finish_storm(done, &mut buf)?;
                }
                let header = parse_header(line_no, &fields).and_then(|h| {
                    match self.seen.insert(h.atcf_id.clone(), line_no) {
                        Some(first) => Err(RowError::field(
                            line_no,
                            "ATCF_ID",
                            h.atcf_id.as_bytes(),
                            format!("expected each storm once in the file: also on line {first}"),
                        )),
                        None => Ok(h),
                    }
                });
                let mut raw = Vec::new();
                if keep_raw {
                    raw.push((line_no, String::from_utf8_lossy(line).into_owned()));
                }
                storm = Some(Storm {
                    header,
                    obs: Vec::new(),
                    lines: 0,
                    times: HashMap::new(),
                    raw,
                });
            }
            parse_time += t.elapsed();
            if buf.len() >= FLUSH_AT {
                sink.write_all(&buf).map_err(copy_failed)?;
                buf.clear();
            }
            if let Some(p) = self.progress {
                if last_tick.elapsed() >= Duration::from_millis(100) {
                    last_tick = Instant::now();
                    p.advance(bytes, self.rows);
                }
            }
        }
        match storm {
            Some(done) => self.finish_storm(done, &mut buf)?,
            None if line_no == 0 || self.rows + self.rejected == 0 => {
                return Err(Error::InvalidInput(format!(
                    "{}: no storm: expected HURDAT2 header and data lines",
                    self.source
                )));
            }
            None => {}
        }
        self.format.end(&mut buf);
        sink.write_all(&buf).map_err(copy_failed)?;
        self.parse = parse_time;
        Ok(())
    }

    /// Checks the storm's count, then encodes its rows or quarantines it whole.
    fn finish_storm(&mut self, storm: Storm, buf: &mut Vec<u8>) -> Result<()> {
        let header = storm.header.and_then(|h| {
            if h.count == storm.lines {
                Ok(h)
            } else {
                Err(RowError::field(
                    h.line,
                    "COUNT",
                    h.count_raw.as_bytes(),
                    format!(
                        "expected {} data lines for {} (its header's count), found {}",
                        h.count, h.atcf_id, storm.lines
                    ),
                ))
            }
        });
        let header = match header {
            Ok(h) => h,
            Err(e) => {
                let header_line = e.line;
                let reason =
                    format!("storm left out: its header on line {header_line} was rejected");
                let mut raw = storm.raw.into_iter();
                let header_text = raw.next().map(|(_, t)| t).unwrap_or_default();
                self.reject(e, header_text.as_bytes())?;
                if let Some(q) = self.quarantine.as_deref_mut() {
                    for (line, text) in raw {
                        q.write_line(line, &reason, &text)?;
                        self.rejected += 1;
                    }
                }
                return Ok(());
            }
        };
        let n = storm.obs.len();
        if n == 0 {
            return Ok(());
        }
        let btid = self
            .storms
            .checked_add(1)
            .and_then(|n| n.checked_add(self.btid_base));
        let btid = btid.ok_or_else(|| {
            Error::InvalidInput(format!(
                "{}:{}: more than {} storms (BTID is a smallint)",
                self.source,
                header.line,
                i16::MAX
            ))
        })?;
        self.storms += 1;
        let doomed = self.rejected > 0 && self.quarantine.is_none();
        let mut shape = String::with_capacity(12);
        for (i, o) in storm.obs.iter().enumerate() {
            shape.clear();
            match storm.obs.get(i + 1) {
                Some(next) => {
                    let dlat = next.lat_f - o.lat_f;
                    let mut dlon = (next.long_f - o.long_f).abs();
                    if dlon > 180.0 {
                        dlon = 360.0 - dlon;
                    }
                    use std::fmt::Write as _;
                    let _ = write!(shape, "{:.6}", (dlat * dlat + dlon * dlon).sqrt());
                }
                None => shape.push_str("0.000000"),
            }
            let fid = i64::from(self.fid_base) + self.rows as i64 + 1;
            let fid = i32::try_from(fid).map_err(|_| {
                Error::InvalidInput(format!("{}: more than {} rows", self.source, i32::MAX))
            })?;
            let encoded = (|| {
                Ok::<_, RowError>(Observation {
                    fid,
                    date: o.date,
                    hour: o.hour,
                    minute: o.minute,
                    btid,
                    name: &header.name,
                    lat: parse::decimal(o.line, "LAT", o.lat.as_bytes(), Bound::UpTo(90))?,
                    long: parse::decimal(o.line, "LONG", o.long.as_bytes(), Bound::UpTo(180))?,
                    wind_kts: o.wind_kts,
                    pressure: o.pressure,
                    cat: o.cat,
                    basin: header.basin,
                    shape_length: parse::decimal(
                        o.line,
                        "Shape_Leng",
                        shape.as_bytes(),
                        Bound::Below(100),
                    )
                    .map_err(|e| RowError {
                        expected: "expected the next observation less than 100 degrees away".into(),
                        ..e
                    })?,
                })
            })();
            let observation = match encoded {
                Ok(observation) => observation,
                Err(e) => {
                    // Only a jump of 100 degrees or more gets here: reject the line.
                    self.reject(e, b"")?;
                    continue;
                }
            };
            self.rows += 1;
            if !doomed {
                let extra = Extra {
                    atcf_id: &header.atcf_id,
                    record_id: o.record_id,
                    status: o.status,
                    radii: o.radii,
                    rmw: o.rmw,
                };
                self.format.hurdat2_row(&observation, &extra, buf);
            }
        }
        Ok(())
    }

    fn reject(&mut self, error: RowError, raw: &[u8]) -> Result<()> {
        self.rejected += 1;
        if let Some(q) = self.quarantine.as_deref_mut() {
            q.write_line(error.line, &error.reason(), &String::from_utf8_lossy(raw))?;
        }
        if self.max_errors.is_none_or(|max| self.errors.len() < max) {
            self.errors.push(error);
        }
        Ok(())
    }
}

fn parse_header(line: u64, f: &[&[u8]]) -> Result<Header, RowError> {
    if f.len() != 3 {
        return Err(RowError::line(
            line,
            format!(
                "expected a storm header of 3 fields (ATCF id, name, number of data lines, e.g. AL011851, UNNAMED, 14,), found {}",
                f.len()
            ),
        ));
    }
    if !is_atcf_id(f[0]) {
        return Err(RowError::field(
            line,
            "ATCF_ID",
            f[0],
            "expected a storm id of 2 capital letters and 6 digits (e.g. AL122005), or a data line starting with a date",
        ));
    }
    let atcf_id = String::from_utf8_lossy(f[0]).into_owned();
    let basin = Basin::from_atcf_id(&atcf_id)
        .map(Basin::name)
        .ok_or_else(|| {
            RowError::field(
                line,
                "ATCF_ID",
                f[0],
                "expected an Atlantic (AL) or Eastern/Central Pacific (EP, CP) storm id",
            )
        })?;
    let name = parse::name(line, f[1])?;
    let name = if name == "UNNAMED" { "NOTNAMED" } else { name };
    let count = parse::int_in(line, "COUNT", f[2], 1, 100_000).map_err(|e| RowError {
        expected: "expected the number of data lines that follow, a whole number from 1".into(),
        ..e
    })? as u64;
    Ok(Header {
        line,
        atcf_id,
        name: name.to_string(),
        basin,
        count,
        count_raw: String::from_utf8_lossy(f[2]).into_owned(),
    })
}

const RADII: [&str; 12] = [
    "R34_NE", "R34_SE", "R34_SW", "R34_NW", "R50_NE", "R50_SE", "R50_SW", "R50_NW", "R64_NE",
    "R64_SE", "R64_SW", "R64_NW",
];

fn parse_data(line: u64, f: &[&[u8]]) -> Result<Obs, RowError> {
    if f.len() != 20 && f.len() != 21 {
        return Err(RowError::line(
            line,
            format!(
                "expected a data line of 20 fields (21 with the radius of maximum wind), found {}",
                f.len()
            ),
        ));
    }
    let date = parse_date(line, f[0])?;
    let (hour, minute) = parse_time(line, f[1])?;
    let record_id = match f[2] {
        b"" => None,
        [r] if RECORD_IDS.contains(r) => Some(*r),
        other => {
            return Err(RowError::field(
                line,
                "RECORD",
                other,
                "expected blank or a record identifier: C, G, I, L, P, R, S, T or W",
            ))
        }
    };
    let status = STATUSES
        .iter()
        .find(|s| s.as_bytes() == f[3])
        .copied()
        .ok_or_else(|| {
            RowError::field(
                line,
                "STATUS",
                f[3],
                format!("expected a status: {}", STATUSES.join(", ")),
            )
        })?;
    let (lat, lat_f) = position(line, "LAT", f[4], b'N', b'S', 90, "28.0N")?;
    let (long, long_f) = position(line, "LONG", f[5], b'E', b'W', 180, "94.8W")?;
    let wind_kts = parse::int_in(line, "WIND", f[6], 0, 500).map_err(|e| RowError {
        expected: "expected a whole number of knots from 0 to 500".into(),
        ..e
    })? as i16;
    let pressure = match f[7] {
        b"-999" => None,
        raw => Some(
            parse::int_in(line, "PRESSURE", raw, 800, 1100).map_err(|e| RowError {
                expected: "expected -999 (not measured) or millibars from 800 to 1100".into(),
                ..e
            })? as i16,
        ),
    };
    let mut radii = [None; 12];
    for (i, r) in radii.iter_mut().enumerate() {
        *r = radius(line, RADII[i], f[8 + i])?;
    }
    let rmw = match f.get(20) {
        Some(raw) => radius(line, "RMW", raw)?,
        None => None,
    };
    let cat = ihw_category(status, wind_kts).map(Category::code).ok_or_else(|| {
        RowError::field(
            line,
            "WIND",
            f[6],
            "expected 64 knots or more for status HU (the IHW category of a hurricane comes from its wind)",
        )
    })?;
    Ok(Obs {
        line,
        date,
        hour,
        minute,
        record_id,
        status,
        cat,
        lat,
        long,
        lat_f,
        long_f,
        wind_kts,
        pressure,
        radii,
        rmw,
    })
}

fn radius(line: u64, column: &'static str, raw: &[u8]) -> Result<Option<i16>, RowError> {
    if raw == b"-999" {
        return Ok(None);
    }
    parse::int_in(line, column, raw, 0, 9999)
        .map(|v| Some(v as i16))
        .map_err(|e| RowError {
            expected: "expected -999 (missing) or nautical miles from 0 to 9999".into(),
            ..e
        })
}

fn parse_date(line: u64, raw: &[u8]) -> Result<NaiveDate, RowError> {
    if raw.len() != 8 || !raw.iter().all(u8::is_ascii_digit) {
        return Err(RowError::field(
            line,
            "DATE",
            raw,
            "expected a date YYYYMMDD (e.g. 20050829)",
        ));
    }
    let num = |r: &[u8]| r.iter().fold(0u32, |v, d| v * 10 + u32::from(d - b'0'));
    let (year, month, day) = (num(&raw[..4]) as i32, num(&raw[4..6]), num(&raw[6..]));
    NaiveDate::from_ymd_opt(year, month, day)
        .filter(|_| year >= 1)
        .ok_or_else(|| {
            let why = if (1..=12).contains(&month) && year >= 1 {
                format!(
                    "{year:04}-{month:02} has {} days",
                    parse::days_in_month(year, month)
                )
            } else {
                "month 01-12".to_string()
            };
            RowError::field(
                line,
                "DATE",
                raw,
                format!("expected a date YYYYMMDD ({why})"),
            )
        })
}

fn parse_time(line: u64, raw: &[u8]) -> Result<(u32, u32), RowError> {
    let bad = || {
        RowError::field(
            line,
            "TIME",
            raw,
            "expected HHMM UTC, hour 00-23 and minute 00-59 (e.g. 1800)",
        )
    };
    if raw.len() != 4 || !raw.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let hour = u32::from((raw[0] - b'0') * 10 + (raw[1] - b'0'));
    let minute = u32::from((raw[2] - b'0') * 10 + (raw[3] - b'0'));
    if hour > 23 || minute > 59 {
        return Err(bad());
    }
    Ok((hour, minute))
}

/// `28.0N` -> ("28.0", 28.0); `94.8W` -> ("-94.8", -94.8). Checked as text.
fn position(
    line: u64,
    column: &'static str,
    raw: &[u8],
    plus: u8,
    minus: u8,
    max: u64,
    example: &str,
) -> Result<(String, f64), RowError> {
    let bad = || {
        RowError::field(
            line,
            column,
            raw,
            format!(
                "expected degrees from 0 to {max} with at most 6 decimals and a hemisphere letter {} or {} (e.g. {example})",
                plus as char, minus as char
            ),
        )
    };
    let (&hemisphere, number) = raw.split_last().ok_or_else(bad)?;
    if hemisphere != plus && hemisphere != minus {
        return Err(bad());
    }
    if number
        .first()
        .is_some_and(|b| !b.is_ascii_digit() && *b != b'.')
    {
        return Err(bad());
    }
    let d = parse::decimal(line, column, number, Bound::UpTo(max)).map_err(|_| bad())?;
    let zero = d.int.is_empty() && d.frac.is_empty();
    // Validated: ASCII digits and at most one point.
    let text = std::str::from_utf8(number).map_err(|_| bad())?;
    let value: f64 = text.parse().map_err(|_| bad())?;
    if hemisphere == minus && !zero {
        Ok((format!("-{text}"), -value))
    } else {
        Ok((text.to_string(), value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_headers() {
        assert!(is_header_line(b"AL011851,            UNNAMED,     14,\r\n"));
        assert!(is_header_line(b"\xEF\xBB\xBFEP011949, UNNAMED, 7,"));
        assert!(!is_header_line(b"FID,YEAR,MONTH"));
        assert!(!is_header_line(b"19490611, 0000,  , TS"));
    }

    #[test]
    fn categories() {
        let code = |status, wind| ihw_category(status, wind).map(Category::code);
        assert_eq!(code("HU", 64), Some("H1"));
        assert_eq!(code("HU", 82), Some("H1"));
        assert_eq!(code("HU", 83), Some("H2"));
        assert_eq!(code("HU", 96), Some("H3"));
        assert_eq!(code("HU", 113), Some("H4"));
        assert_eq!(code("HU", 137), Some("H5"));
        assert_eq!(code("HU", 63), None);
        assert_eq!(code("EX", 40), Some("E"));
        assert_eq!(code("LO", 20), Some("L"));
        assert_eq!(code("WV", 20), Some("W"));
        assert_eq!(code("ET", 20), Some("ET"));
        assert_eq!(code("ST", 140), Some("ST"));
        assert_eq!(code("XX", 20), None);
        // The statuses are exactly the categories' HURDAT2 statuses.
        let mut from_categories: Vec<&str> =
            Category::ALL.iter().map(|c| c.hurdat2_status()).collect();
        from_categories.sort();
        from_categories.dedup();
        let mut statuses = STATUSES.to_vec();
        statuses.sort();
        assert_eq!(statuses, from_categories);
    }

    #[test]
    fn the_category_gives_back_the_status_it_came_from() {
        // Every status the loader accepts comes back from the category it gives
        // (what migration 000010's status_of_category does in the database).
        for status in STATUSES {
            for wind in [0, 30, 64, 83, 96, 113, 137, 160] {
                if let Some(cat) = ihw_category(status, wind) {
                    assert_eq!(cat.hurdat2_status(), status, "{status} {wind} kt");
                }
            }
        }
        let status = |code: &str| Category::from_code(code).map(Category::hurdat2_status);
        assert_eq!(status("H3"), Some("HU"));
        assert_eq!(status("E"), Some("EX"));
        assert_eq!(status("ST"), Some("ST"));
        for none in ["HU", "EX", "LO", "WV", "Q9", "", "h1"] {
            assert_eq!(status(none), None, "{none}");
        }
    }

    #[test]
    fn positions() {
        assert_eq!(
            position(1, "LAT", b"28.0N", b'N', b'S', 90, "").unwrap().0,
            "28.0"
        );
        assert_eq!(
            position(1, "LONG", b"94.8W", b'E', b'W', 180, "")
                .unwrap()
                .0,
            "-94.8"
        );
        assert!(position(1, "LAT", b"20.2X", b'N', b'S', 90, "").is_err());
        assert!(position(1, "LAT", b"-20.2N", b'N', b'S', 90, "").is_err());
        assert!(position(1, "LAT", b"90.1N", b'N', b'S', 90, "").is_err());
    }
}
