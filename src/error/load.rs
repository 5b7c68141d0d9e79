//! Why a load wrote nothing: the bad rows of its file.

use std::fmt;

/// A load refused because of bad rows; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// File name as shown in messages.
    pub source: String,
    /// Good rows that were not loaded because of the bad ones.
    pub good_rows: u64,
    /// Number of bad rows (may exceed `errors.len()`).
    pub total: u64,
    /// The first bad rows, in file order.
    pub errors: Vec<RowError>,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} bad row{}, nothing loaded",
            self.source,
            self.total,
            if self.total == 1 { "" } else { "s" }
        )?;
        for e in &self.errors {
            write!(f, "\n  {}", e.display_in(&self.source))?;
        }
        let more = self.total - self.errors.len() as u64;
        if more > 0 {
            write!(f, "\n  ... and {more} more (--all-errors lists them all)")?;
        }
        Ok(())
    }
}

/// Why one line of the file was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line number in the file.
    pub line: u64,
    /// The IHW column at fault, if the fault is in one column.
    pub column: Option<&'static str>,
    /// The offending value as written (lossy if it was not UTF-8).
    pub value: Option<String>,
    /// What was expected instead.
    pub expected: String,
}

impl RowError {
    pub(crate) fn line(line: u64, expected: impl Into<String>) -> Self {
        RowError {
            line,
            column: None,
            value: None,
            expected: expected.into(),
        }
    }

    pub(crate) fn field(
        line: u64,
        column: &'static str,
        value: &[u8],
        expected: impl Into<String>,
    ) -> Self {
        // A runaway value is shown by its start only: the report stays readable and
        // small however long the field.
        const SHOWN: usize = 40;
        let mut shown = String::from_utf8_lossy(&value[..value.len().min(SHOWN)]).into_owned();
        if value.len() > SHOWN {
            shown.push_str(&format!("... ({} bytes)", value.len()));
        }
        RowError {
            line,
            column: Some(column),
            value: Some(shown),
            expected: expected.into(),
        }
    }

    /// `COLUMN "value": expected`, or just `expected` for whole-line faults.
    pub fn reason(&self) -> String {
        match (&self.column, &self.value) {
            (Some(column), Some(value)) => format!("{column} \"{value}\": {}", self.expected),
            _ => self.expected.clone(),
        }
    }

    /// `file:line: COLUMN "value": expected`, the format users see.
    pub fn display_in(&self, file: &str) -> String {
        format!("{file}:{}: {}", self.line, self.reason())
    }
}
