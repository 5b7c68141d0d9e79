//! A load's input file, plain or gzip: gzip is recognised by its magic bytes (1f 8b),
//! whatever the file's name, and decompressed as it streams (memory stays flat).
//!
//! The loader reads the decompressed text exactly as it reads a plain file, so rows,
//! results and `file:line` numbers are the same; messages name the file as given
//! (`storm_data.csv.gz:1043: ...`). Corrupt or cut-short gzip data is an error naming
//! the file, and, like any other error, the load's transaction writes nothing.

use std::fs::File;
use std::io::{self, BufReader, Chain, Cursor, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::bufread::MultiGzDecoder;

use super::Progress;
use crate::error::{Error, Result};

/// gzip's first two bytes (RFC 1952, ID1 ID2).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// How much of the file is read ahead to sniff its format.
const HEAD: usize = 4096;

/// The file's first bytes (read to sniff the format) put back before the rest.
type Sniffed = Chain<Cursor<Vec<u8>>, File>;

/// An opened input: the file's bytes, or its decompressed content (boxed: the
/// decoder's state is large, and moved with the input).
pub(super) enum Input {
    Plain(Sniffed),
    Gzip(Box<Gzip>),
}

impl Read for Input {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Input::Plain(r) => r.read(buf),
            Input::Gzip(r) => r.read(buf),
        }
    }
}

/// Opens `path` for a load. Returns the input, the file's size in bytes (0 if
/// unknown) and, for gzip, the count of compressed bytes read so far (what progress
/// is measured in: the size is the compressed one).
pub(super) fn open(path: &Path) -> Result<(Input, u64, Option<Arc<AtomicU64>>)> {
    let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    // The file's start, put back before the rest (no seek: a pipe works too). Not
    // just the two magic bytes: the loader tells HURDAT2 from CSV by the first line's
    // first field, in what its first read returns, which is this.
    let mut head = Vec::with_capacity(HEAD);
    (&mut file)
        .take(HEAD as u64)
        .read_to_end(&mut head)
        .map_err(|e| Error::io(path, e))?;
    let is_gzip = head.starts_with(&GZIP_MAGIC);
    let sniffed = Cursor::new(head).chain(file);
    if !is_gzip {
        return Ok((Input::Plain(sniffed), size, None));
    }
    let read = Arc::new(AtomicU64::new(0));
    let counted = Counted {
        inner: sniffed,
        read: Arc::clone(&read),
    };
    let decoder = MultiGzDecoder::new(BufReader::with_capacity(1 << 16, counted));
    Ok((Input::Gzip(Box::new(Gzip { decoder })), size, Some(read)))
}

/// gzip decompression whose errors say what went wrong in a reader's words.
pub(super) struct Gzip {
    decoder: MultiGzDecoder<BufReader<Counted<Sniffed>>>,
}

impl Read for Gzip {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.decoder.read(buf).map_err(gzip_error)
    }
}

/// A decompression error as a message that names the problem. The kind is `Other`
/// (the loader reserves `InvalidData` for its own line-length limit).
fn gzip_error(e: io::Error) -> io::Error {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => io::Error::other(
            "gzip data ends early: the file is truncated (expected the rest of the \
             compressed data and its 8-byte trailer)",
        ),
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => io::Error::other(format!(
            "corrupt gzip data ({e}): expected a complete, undamaged .gz file \
             (check it with `gzip -t`)"
        )),
        // The file itself could not be read: say so as the system did.
        _ => e,
    }
}

/// Counts the bytes read through it (the compressed bytes of a gzip input).
struct Counted<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Progress of a gzip load in compressed bytes, so it runs up to the file's size:
/// the loader's own byte counts are positions in the decompressed text.
pub(super) struct CompressedProgress {
    pub inner: Arc<dyn Progress>,
    pub read: Arc<AtomicU64>,
}

impl Progress for CompressedProgress {
    fn start(&self, total_bytes: u64) {
        self.inner.start(total_bytes);
    }
    fn advance(&self, _decompressed: u64, rows: u64) {
        self.inner.advance(self.read.load(Ordering::Relaxed), rows);
    }
    fn phase(&self, message: &str) {
        self.inner.phase(message);
    }
    fn finish(&self) {
        self.inner.finish();
    }
}
