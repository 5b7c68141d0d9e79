//! Loading the IHW CSV: exact, streaming, all-or-nothing, idempotent.
//!
//! The file is parsed while it streams to PostgreSQL with COPY, so memory stays flat.
//! Into an empty table the rows go straight in; otherwise they go to a temporary
//! staging table and one set-based merge inserts new FIDs and updates only rows whose
//! values are DISTINCT FROM the staged ones (an unchanged row is never touched: no
//! dead tuple, no audit row). Everything runs in one transaction: a bad row means
//! nothing is written, unless a quarantine file takes the bad rows.
//!
//! Every load is recorded (migration 000008): a row in `loads` written through the
//! SECURITY DEFINER `loads_begin` / `loads_finish` in the load's own transaction, with
//! its counts of observations and storms, and `edits.load_id` naming it on every edit
//! the load made (the audit trigger finds the running load by the transaction's id).
//! [`LoadSummary`] carries the same counts and [`LoadSummary::load_id`];
//! [`crate::audit::storm_changes`] reads back what a load changed. Rows and storms the
//! file lacks are counted as not in file and left alone: a load never deletes.

mod encode;
mod hurdat2;
mod input;
mod merge;
mod parse;

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::pg::PgConnection;

use encode::Columns;
pub use encode::CopyFormat;
pub use parse::HEADER;

use crate::db::Db;
use crate::error::{Error, Rejected, Result, RowError};

/// Hears how a load advances, so a front end can draw it. The library draws nothing
/// itself: the CLI implements this with a progress bar, a service may log or ignore it.
/// Every method has an empty default; calls come from the loading thread, at most
/// every 100 ms while rows stream.
pub trait Progress: Send + Sync {
    /// The load starts; `total_bytes` is the input's size (0 if unknown).
    fn start(&self, total_bytes: u64) {
        let _ = total_bytes;
    }
    /// `bytes_read` of the input and `rows` good rows so far.
    fn advance(&self, bytes_read: u64, rows: u64) {
        let _ = (bytes_read, rows);
    }
    /// A step with nothing to count has begun (the merge of the staged rows).
    fn phase(&self, message: &str) {
        let _ = message;
    }
    /// The load ended, successfully or not.
    fn finish(&self) {}
}

/// How a load treats bad rows and whom it tells how far it got.
#[derive(Clone)]
#[non_exhaustive]
pub struct LoadOptions {
    /// `None`: any bad row aborts the load and nothing is written.
    /// `Some(file)`: good rows load; bad rows go to `file` with line and reason.
    pub quarantine: Option<PathBuf>,
    /// How many row errors to keep for the report (`None`: all of them).
    pub max_errors: Option<usize>,
    /// COPY wire format (text unless measured otherwise).
    pub format: CopyFormat,
    /// Told how the load advances (`None`: nobody).
    pub progress: Option<Arc<dyn Progress>>,
    /// The application end user the audit trail should name.
    pub app_user: Option<String>,
}

impl Default for LoadOptions {
    /// All-or-nothing, the first 10 bad rows listed, text COPY, nobody told of progress.
    fn default() -> Self {
        LoadOptions {
            quarantine: None,
            max_errors: Some(10),
            format: CopyFormat::default(),
            progress: None,
            app_user: None,
        }
    }
}

impl fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadOptions")
            .field("quarantine", &self.quarantine)
            .field("max_errors", &self.max_errors)
            .field("format", &self.format)
            .field("progress", &self.progress.is_some())
            .field("app_user", &self.app_user)
            .finish()
    }
}

impl LoadOptions {
    /// The same as [`LoadOptions::default`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Good rows load and bad ones go to `path` with line and reason.
    pub fn quarantine(mut self, path: impl Into<PathBuf>) -> Self {
        self.quarantine = Some(path.into());
        self
    }

    /// Keep at most `n` bad rows for the report (`None`: all).
    pub fn max_errors(mut self, n: Option<usize>) -> Self {
        self.max_errors = n;
        self
    }

    /// The COPY wire format.
    pub fn format(mut self, format: CopyFormat) -> Self {
        self.format = format;
        self
    }

    /// Who hears how the load advances.
    pub fn progress(mut self, progress: Arc<dyn Progress>) -> Self {
        self.progress = Some(progress);
        self
    }

    /// The application end user the audit trail names.
    pub fn app_user(mut self, name: impl Into<String>) -> Self {
        self.app_user = Some(name.into());
        self
    }
}

/// What a load did. `Display` is the one-line summary scripts parse:
///
/// ```text
/// loaded F: 8626 rows, 8 inserted, 10 updated, 8608 unchanged, 0 rejected, 0 not in file; 293 storms: 3 added, 2 revised, 288 unchanged, 0 not in file; load 2 in 0.41 s
/// ```
///
/// (`; load N` only when the database records loads, migration 000008.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadSummary {
    /// File name as shown in messages.
    pub source: String,
    /// Good data rows in the file.
    pub rows: u64,
    /// Rows with a new FID, inserted.
    pub inserted: u64,
    /// Rows whose FID existed with different values, updated.
    pub updated: u64,
    /// Rows identical to the stored ones, not written.
    pub unchanged: u64,
    /// Bad rows, written to the quarantine file instead of loaded.
    pub rejected: u64,
    /// Rows in the table whose FID is not in the file (left alone).
    pub not_in_file: u64,
    /// Storms (BTIDs, after matching) in the file.
    pub storms: u64,
    /// Storms of the file that were not stored before.
    pub storms_added: u64,
    /// Stored storms of the file with at least one observation inserted or updated.
    pub storms_revised: u64,
    /// Stored storms of the file whose observations were all unchanged.
    pub storms_unchanged: u64,
    /// Stored storms the file does not have (left alone: a load never deletes).
    pub storms_not_in_file: u64,
    /// The load's id in the `loads` table (migration 000008), which the audit trail's
    /// `edits.load_id` names; `None` on a database without that table.
    pub load_id: Option<i64>,
    /// Wall time of the whole load.
    pub elapsed: Duration,
    /// Time spent parsing and encoding rows (overlaps `copy`).
    pub parse: Duration,
    /// Wall time of the COPY statement, parsing included.
    pub copy: Duration,
    /// Wall time of the merge (zero when the table was empty and rows went straight in).
    pub merge: Duration,
}

impl fmt::Display for LoadSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "loaded {}: {} rows, {} inserted, {} updated, {} unchanged, {} rejected, {} not in file; \
             {} storms: {} added, {} revised, {} unchanged, {} not in file",
            self.source,
            self.rows,
            self.inserted,
            self.updated,
            self.unchanged,
            self.rejected,
            self.not_in_file,
            self.storms,
            self.storms_added,
            self.storms_revised,
            self.storms_unchanged,
            self.storms_not_in_file,
        )?;
        if let Some(id) = self.load_id {
            write!(f, "; load {id}")?;
        }
        write!(f, " in {:.2} s", self.elapsed.as_secs_f64())
    }
}

impl LoadSummary {
    /// `phases: parse 0.11 s (322580 rows/s), copy 0.40 s (...), merge 0.05 s (...)`.
    pub fn phases(&self) -> String {
        let rate = |d: Duration| self.rows as f64 / d.as_secs_f64().max(1e-9);
        format!(
            "phases: parse {:.3} s ({:.0} rows/s), copy {:.3} s ({:.0} rows/s), merge {:.3} s ({:.0} rows/s)",
            self.parse.as_secs_f64(),
            rate(self.parse),
            self.copy.as_secs_f64(),
            rate(self.copy),
            self.merge.as_secs_f64(),
            rate(self.merge)
        )
    }
}

/// The audit trail's app user for a load that names none: `load:` and the file name
/// (no directory), e.g. `load:hurdat2-1851-2016-041117-SHORT.txt`.
pub fn default_app_user(file_name: &str) -> String {
    format!("load:{file_name}")
}

/// Loads an IHW CSV or HURDAT2 file in one transaction, attributed to
/// `options.app_user`, else to [`default_app_user`] (`load:FILE_NAME`), and recorded
/// in `loads` (see [`LoadSummary::load_id`]).
///
/// A gzip file (recognised by its first two bytes, 1f 8b, whatever its name) is
/// decompressed as it streams: the same rows, results and `file:line` numbers as the
/// uncompressed file, messages naming the file as given (`storm_data.csv.gz:12: ...`),
/// progress counted in compressed bytes. Corrupt or truncated gzip data is an error
/// and nothing is written.
pub fn load_path(db: &Db, path: impl AsRef<Path>, options: &LoadOptions) -> Result<LoadSummary> {
    let path = path.as_ref();
    let (file, size, compressed_read) = input::open(path)?;
    let source = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    // A gzip load's progress runs in compressed bytes, up to the file's size.
    let gzip_options;
    let options = match (&options.progress, compressed_read) {
        (Some(inner), Some(read)) => {
            gzip_options = options
                .clone()
                .progress(Arc::new(input::CompressedProgress {
                    inner: Arc::clone(inner),
                    read,
                }));
            &gzip_options
        }
        _ => options,
    };
    let run = |conn: &mut PgConnection| load_reader(conn, file, &source, size, options);
    // Without an explicit app user, the audit trail names the release: load:FILE_NAME.
    let app_user = match &options.app_user {
        Some(user) => user.clone(),
        None => default_app_user(&source),
    };
    let mut summary = db.transaction_as(&app_user, run);
    // Point duplicate FIDs at their first line (needs a second read; errors only).
    if let Err(Error::Rejected(rejected)) = &mut summary {
        merge_first_lines(path, rejected);
    }
    summary
}

/// Loads IHW CSV from `reader` on `conn`, inside the caller's transaction.
///
/// `size` (bytes, 0 if unknown) only drives the progress bar. On bad rows without a
/// quarantine this returns [`Error::Rejected`]: the caller's transaction must then be
/// rolled back, which [`Db::transaction`] does.
pub fn load_reader(
    conn: &mut PgConnection,
    reader: impl Read,
    source: &str,
    size: u64,
    options: &LoadOptions,
) -> Result<LoadSummary> {
    let started = Instant::now();
    let mut input = BufReader::with_capacity(1 << 16, LineLimit::new(reader));
    // The format, from the first line: a HURDAT2 storm header or (anything else) CSV.
    let first = input.fill_buf().map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidData => Error::InvalidInput(format!("{source}:{e}")),
        _ => Error::io(source, e),
    })?;
    let line_end = first
        .iter()
        .position(|&b| b == b'\n')
        .unwrap_or(first.len());
    if hurdat2::is_header_line(&first[..line_end]) {
        return load_hurdat2(conn, input, source, size, options, started);
    }
    let mut quarantine = match &options.quarantine {
        Some(path) => Some(Quarantine::create(path)?),
        None => None,
    };
    let target = merge::prepare(conn)?;
    let load_id = merge::begin_load(conn, source, "ihw", size)?;
    let codes = merge::codes(conn)?;
    let state = RefCell::new(Stream {
        reader: Some(
            csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .buffer_capacity(1 << 16)
                .from_reader(input),
        ),
        source,
        options,
        quarantine: quarantine.as_mut(),
        fids: FidSet::default(),
        codes,
        rows: 0,
        rejected: 0,
        errors: Vec::new(),
        fatal: None,
        parse: Duration::ZERO,
        progress: options.progress.as_deref(),
    });
    if let Some(p) = options.progress.as_deref() {
        p.start(size);
    }
    // Whatever happens next, the front end hears that the load ended.
    let _finish = Finish(options.progress.as_deref());
    let copy_started = Instant::now();
    let copied = merge::copy(conn, target, Columns::Ihw, options.format, |sink| {
        let mut stream = state.borrow_mut();
        stream.run(sink).map_err(|e| {
            stream.fatal = Some(e);
            Error::InvalidInput("load aborted".into())
        })
    });
    let copy = copy_started.elapsed();
    let mut stream = state.into_inner();
    if let Some(fatal) = stream.fatal.take() {
        return Err(fatal);
    }
    copied?;
    let streamed = Streamed {
        rows: stream.rows,
        rejected: stream.rejected,
        parse: stream.parse,
        errors: std::mem::take(&mut stream.errors),
    };
    // The stream borrows the quarantine file: done with it.
    drop(stream);
    let run = Run {
        source,
        options,
        target,
        load_id,
        started,
    };
    merge_streamed(conn, &run, quarantine, streamed, copy, merge::finish)
}

/// One load as both formats run it: where it came from, with what options, into
/// which COPY target, under which `loads` id, since when.
struct Run<'a> {
    source: &'a str,
    options: &'a LoadOptions,
    target: merge::Target,
    load_id: Option<i64>,
    started: Instant,
}

/// What a stream of rows came to once its COPY ended.
struct Streamed {
    rows: u64,
    rejected: u64,
    parse: Duration,
    errors: Vec<RowError>,
}

/// The end of a load after its COPY, for both formats: rejected rows without a
/// quarantine refuse it (errors in file order: a HURDAT2 header's count is checked
/// at its storm's end); else `merge` folds the rows in, the quarantine file is
/// written and the summary is recorded in `loads` in the load's transaction.
fn merge_streamed(
    conn: &mut PgConnection,
    run: &Run<'_>,
    quarantine: Option<Quarantine>,
    mut streamed: Streamed,
    copy: Duration,
    merge: fn(&mut PgConnection, merge::Target, u64) -> Result<merge::Counts>,
) -> Result<LoadSummary> {
    let Run {
        source,
        options,
        target,
        load_id,
        started,
    } = *run;
    let (rows, rejected, parse) = (streamed.rows, streamed.rejected, streamed.parse);
    // A file with a header and nothing else is no release: refused, so the caller's
    // transaction rolls back the `loads` row begun for it.
    if rows == 0 && rejected == 0 {
        return Err(Error::InvalidInput(format!(
            "{source}: no observations after the header: nothing loaded, no release recorded"
        )));
    }
    if rejected > 0 && options.quarantine.is_none() {
        streamed.errors.sort_by_key(|e| e.line);
        return Err(Error::Rejected(Box::new(Rejected {
            source: source.to_string(),
            good_rows: rows,
            total: rejected,
            errors: streamed.errors,
        })));
    }
    let merge_started = Instant::now();
    // The merge is one statement with nothing to count: say that we wait for it.
    if let (Some(p), merge::Target::Staging) = (options.progress.as_deref(), target) {
        p.phase(&format!("merging {rows} staged rows"));
    }
    let counts = merge(conn, target, rows)?;
    let merge = merge_started.elapsed();
    if let (Some(q), Some(path)) = (quarantine, &options.quarantine) {
        q.finish(path)?;
    }
    tracing::debug!(
        source,
        rows,
        rejected,
        ?target,
        ?parse,
        ?copy,
        ?merge,
        "load finished"
    );
    let storms = &counts.storms;
    let summary = LoadSummary {
        source: source.to_string(),
        rows,
        inserted: counts.inserted,
        updated: counts.updated,
        unchanged: rows - counts.inserted - counts.updated,
        rejected,
        not_in_file: counts.not_in_file,
        storms: storms.in_file,
        storms_added: storms.added,
        storms_revised: storms.revised,
        storms_unchanged: storms.in_file.saturating_sub(storms.added + storms.revised),
        storms_not_in_file: storms.not_in_file,
        load_id,
        elapsed: started.elapsed(),
        parse,
        copy,
        merge,
    };
    if let Some(id) = load_id {
        merge::finish_load(conn, id, &summary)?;
    }
    Ok(summary)
}

/// Notifies the front end that a load ended, whatever happened.
struct Finish<'p>(Option<&'p dyn Progress>);

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        if let Some(p) = self.0 {
            p.finish();
        }
    }
}

/// The HURDAT2 side of [`load_reader`]: same transaction discipline, COPY target and
/// summary; storms are matched by ATCF id and observations by (storm, time) (see
/// [`merge`]'s `finish_hurdat2`).
fn load_hurdat2<R: Read>(
    conn: &mut PgConnection,
    input: BufReader<LineLimit<R>>,
    source: &str,
    size: u64,
    options: &LoadOptions,
    started: Instant,
) -> Result<LoadSummary> {
    let mut quarantine = match &options.quarantine {
        Some(path) => Some(Quarantine::create_with(path, &hurdat2::QUARANTINE_HEADER)?),
        None => None,
    };
    let target = merge::prepare(conn)?;
    let load_id = merge::begin_load(conn, source, "hurdat2", size)?;
    let highest = match target {
        merge::Target::Direct => (0, 0),
        merge::Target::Staging => merge::highest_ids(conn)?,
    };
    let state = RefCell::new(hurdat2::H2Stream::new(
        input,
        source,
        options.format,
        options.max_errors,
        quarantine.as_mut(),
        options.progress.as_deref(),
        highest,
    ));
    if let Some(p) = options.progress.as_deref() {
        p.start(size);
    }
    let _finish = Finish(options.progress.as_deref());
    let copy_started = Instant::now();
    let copied = merge::copy(conn, target, Columns::All, options.format, |sink| {
        let mut stream = state.borrow_mut();
        stream.run(sink).map_err(|e| {
            stream.fatal = Some(e);
            Error::InvalidInput("load aborted".into())
        })
    });
    let copy = copy_started.elapsed();
    let mut stream = state.into_inner();
    if let Some(fatal) = stream.fatal.take() {
        return Err(fatal);
    }
    copied?;
    let streamed = Streamed {
        rows: stream.rows,
        rejected: stream.rejected,
        parse: stream.parse,
        errors: std::mem::take(&mut stream.errors),
    };
    // The stream borrows the quarantine file: done with it.
    drop(stream);
    let run = Run {
        source,
        options,
        target,
        load_id,
        started,
    };
    merge_streamed(
        conn,
        &run,
        quarantine,
        streamed,
        copy,
        merge::finish_hurdat2,
    )
}

/// Longest line the loader reads. An IHW row is under 100 bytes; without a bound the
/// CSV reader would hold a whole runaway line (megabytes) in memory.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// A reader that fails, naming the line, as soon as a line exceeds
/// [`MAX_LINE_BYTES`], so memory stays flat whatever the input.
struct LineLimit<R> {
    inner: R,
    line: u64,
    in_line: usize,
}

impl<R: Read> LineLimit<R> {
    fn new(inner: R) -> Self {
        LineLimit {
            inner,
            line: 1,
            in_line: 0,
        }
    }
}

impl<R: Read> Read for LineLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for &b in &buf[..n] {
            if b == b'\n' {
                self.line += 1;
                self.in_line = 0;
            } else {
                self.in_line += 1;
                if self.in_line > MAX_LINE_BYTES {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        format!(
                            "{}: line longer than {MAX_LINE_BYTES} bytes: expected an IHW row \
                             (14 short fields) or a HURDAT2 line",
                            self.line
                        ),
                    ));
                }
            }
        }
        Ok(n)
    }
}

/// The parsing side of the COPY, driven from inside Diesel's copy callback.
struct Stream<'a, R: Read> {
    reader: Option<csv::Reader<BufReader<LineLimit<R>>>>,
    source: &'a str,
    options: &'a LoadOptions,
    quarantine: Option<&'a mut Quarantine>,
    fids: FidSet,
    /// The valid CAT and BASIN values; `None` on a database from before the
    /// reference tables (migration 000006), which has no closed set to check.
    codes: Option<parse::Codes>,
    rows: u64,
    rejected: u64,
    errors: Vec<RowError>,
    /// Why the stream stopped early; Diesel would only pass on its message.
    fatal: Option<Error>,
    parse: Duration,
    progress: Option<&'a dyn Progress>,
}

/// COPY data goes out in messages of about 8 KiB, as psql's `\copy` sends it. With
/// 64 KiB messages (a little more than the server's raw COPY buffer takes in one read)
/// the server's COPY of the IHW rows took longer: `bench_load`'s server-time ratio to
/// psql was 1.04, and 1.00 and 1.01 with 8 or 4 KiB messages (11 runs each, by hand).
const FLUSH_AT: usize = 1 << 13;

impl<R: Read> Stream<'_, R> {
    fn run(&mut self, sink: &mut dyn Write) -> Result<()> {
        let Some(mut reader) = self.reader.take() else {
            return Ok(());
        };
        let format = self.options.format;
        let mut record = csv::ByteRecord::new();
        let mut buf = Vec::with_capacity(FLUSH_AT + 4096);
        let tick = Instant::now();
        format.begin(&mut buf);

        // Header: line 1, a UTF-8 BOM allowed.
        if !self.read(&mut reader, &mut record)? {
            return Err(Error::InvalidInput(format!(
                "{}: empty file: expected the header {}",
                self.source,
                HEADER.join(",")
            )));
        }
        let mut fields: Vec<&[u8]> = record.iter().collect();
        if let Some(first) = fields.first_mut() {
            *first = first.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(first);
        }
        parse::check_header(&fields).map_err(|e| Error::InvalidInput(e.display_in(self.source)))?;

        let mut parse_time = tick.elapsed();
        let mut last_tick = Instant::now();
        while self.read(&mut reader, &mut record)? {
            let t = Instant::now();
            let line = record.position().map_or(0, |p| p.line());
            let checked = parse::parse_record(line, &record).and_then(|o| {
                if let Some(codes) = &self.codes {
                    codes.check(line, &record, &o)?;
                }
                if self.fids.insert(o.fid) {
                    Ok(o)
                } else {
                    Err(duplicate_fid(line, &record[0]))
                }
            });
            match checked {
                Ok(o) => {
                    self.rows += 1;
                    // Once the load is doomed, keep checking rows but send nothing.
                    if self.rejected == 0 || self.quarantine.is_some() {
                        format.ihw_row(&o, &mut buf);
                    }
                }
                Err(e) => self.reject(e, &record)?,
            }
            parse_time += t.elapsed();
            if buf.len() >= FLUSH_AT {
                sink.write_all(&buf).map_err(copy_failed)?;
                buf.clear();
            }
            if let Some(p) = self.progress {
                if last_tick.elapsed() >= Duration::from_millis(100) {
                    last_tick = Instant::now();
                    p.advance(record.position().map_or(0, |p| p.byte()), self.rows);
                }
            }
        }
        format.end(&mut buf);
        sink.write_all(&buf).map_err(copy_failed)?;
        self.parse = parse_time;
        Ok(())
    }

    fn read(
        &self,
        reader: &mut csv::Reader<BufReader<LineLimit<R>>>,
        record: &mut csv::ByteRecord,
    ) -> Result<bool> {
        reader
            .read_byte_record(record)
            .map_err(|e| match e.into_kind() {
                csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::InvalidData => {
                    // LineLimit's message already says file:line.
                    Error::InvalidInput(format!("{}:{io}", self.source))
                }
                csv::ErrorKind::Io(io) => Error::io(self.source, io),
                other => Error::InvalidInput(format!("{}: {other:?}", self.source)),
            })
    }

    fn reject(&mut self, error: RowError, record: &csv::ByteRecord) -> Result<()> {
        self.rejected += 1;
        if let Some(q) = self.quarantine.as_deref_mut() {
            q.write(&error, record)?;
        }
        if self
            .options
            .max_errors
            .is_none_or(|max| self.errors.len() < max)
        {
            self.errors.push(error);
        }
        Ok(())
    }
}

fn copy_failed(e: std::io::Error) -> Error {
    Error::Database {
        message: format!("COPY failed: {e}"),
        source: None,
    }
}

fn duplicate_fid(line: u64, raw: &[u8]) -> RowError {
    RowError {
        line,
        column: Some("FID"),
        value: Some(String::from_utf8_lossy(raw).into_owned()),
        expected: DUPLICATE.to_string(),
    }
}

const DUPLICATE: &str = "duplicate: expected each FID once in the file";

/// Rewrites duplicate-FID errors to name the line where the FID was first used.
fn merge_first_lines(path: &Path, rejected: &mut Rejected) {
    let wanted: HashSet<&str> = rejected
        .errors
        .iter()
        .filter(|e| e.expected == DUPLICATE)
        .filter_map(|e| e.value.as_deref())
        .collect();
    if wanted.is_empty() {
        return;
    }
    let Ok((file, _, _)) = input::open(path) else {
        return;
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(BufReader::new(file));
    let mut first: std::collections::HashMap<String, u64> = Default::default();
    let mut record = csv::ByteRecord::new();
    while let Ok(true) = reader.read_byte_record(&mut record) {
        if let (Some(fid), Some(pos)) = (record.get(0), record.position()) {
            let fid = String::from_utf8_lossy(fid);
            if wanted.contains(fid.as_ref()) && !first.contains_key(fid.as_ref()) {
                first.insert(fid.into_owned(), pos.line());
            }
        }
    }
    for e in &mut rejected.errors {
        if e.expected == DUPLICATE {
            if let Some(line) = e.value.as_ref().and_then(|v| first.get(v)) {
                e.expected = format!("duplicate: FID already used on line {line}");
            }
        }
    }
}

/// FIDs seen so far: a bitmap for the dense low range (8 MiB at most), a hash set
/// above it, so memory stays flat for files of any length with sequential FIDs.
#[derive(Default)]
struct FidSet {
    bits: Vec<u64>,
    sparse: HashSet<i32>,
}

impl FidSet {
    const DENSE_LIMIT: usize = 1 << 26;

    /// Adds `fid`; false if it was already there.
    fn insert(&mut self, fid: i32) -> bool {
        let i = fid as usize;
        if i >= Self::DENSE_LIMIT {
            return self.sparse.insert(fid);
        }
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        if word >= self.bits.len() {
            self.bits.resize((word + 1).next_power_of_two(), 0);
        }
        let seen = self.bits[word] & bit != 0;
        self.bits[word] |= bit;
        !seen
    }
}

/// Rejected rows with line and reason; written beside the target and renamed into
/// place only when the load commits, so a failed load leaves no half-written file.
struct Quarantine {
    writer: csv::Writer<File>,
    temp: PathBuf,
}

impl Quarantine {
    fn create(path: &Path) -> Result<Quarantine> {
        let mut header = vec!["LINE", "ERROR"];
        header.extend(HEADER);
        Quarantine::create_with(path, &header)
    }

    fn create_with(path: &Path, header: &[&str]) -> Result<Quarantine> {
        let mut temp = path.as_os_str().to_owned();
        temp.push(".partial");
        let temp = PathBuf::from(temp);
        let file = File::create(&temp).map_err(|e| Error::io(&temp, e))?;
        let mut writer = csv::WriterBuilder::new().flexible(true).from_writer(file);
        writer
            .write_record(header)
            .map_err(|e| quarantine_error(&temp, e))?;
        Ok(Quarantine { writer, temp })
    }

    fn write(&mut self, error: &RowError, record: &csv::ByteRecord) -> Result<()> {
        let reason = error.reason();
        let line = error.line.to_string();
        let mut row: Vec<&[u8]> = vec![line.as_bytes(), reason.as_bytes()];
        row.extend(record.iter());
        self.writer
            .write_record(&row)
            .map_err(|e| quarantine_error(&self.temp, e))
    }

    /// A whole line (HURDAT2): `LINE,ERROR,TEXT`.
    fn write_line(&mut self, line: u64, reason: &str, text: &str) -> Result<()> {
        self.writer
            .write_record([line.to_string().as_str(), reason, text])
            .map_err(|e| quarantine_error(&self.temp, e))
    }

    fn finish(mut self, path: &Path) -> Result<()> {
        self.writer.flush().map_err(|e| Error::io(&self.temp, e))?;
        std::fs::rename(&self.temp, path).map_err(|e| Error::io(path, e))
    }
}

impl Drop for Quarantine {
    fn drop(&mut self) {
        // After a successful finish the temp file is gone and this does nothing.
        let _ = std::fs::remove_file(&self.temp);
    }
}

fn quarantine_error(path: &Path, e: csv::Error) -> Error {
    Error::io(path, std::io::Error::other(e.to_string()))
}
