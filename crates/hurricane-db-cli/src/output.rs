//! How the analyst commands print: an aligned table on a terminal or in a pipe,
//! or `--json` / `--csv` for programs.

use std::io::Write;

use serde::Serialize;

use hurricane_db::{printable, Error, Result};

/// Output format of a listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Table,
    Json,
    Csv,
}

impl Format {
    pub fn from_flags(json: bool, csv: bool) -> Format {
        match (json, csv) {
            (true, _) => Format::Json,
            (_, true) => Format::Csv,
            _ => Format::Table,
        }
    }
}

/// A column: header, right-aligned (numbers) or not, and how to show a row's value.
pub struct Column<T> {
    pub header: &'static str,
    pub right: bool,
    pub value: fn(&T) -> String,
}

impl<T> Column<T> {
    /// A left-aligned (text) column.
    pub fn left(header: &'static str, value: fn(&T) -> String) -> Self {
        Column {
            header,
            right: false,
            value,
        }
    }

    /// A right-aligned (number) column.
    pub fn right(header: &'static str, value: fn(&T) -> String) -> Self {
        Column {
            header,
            right: true,
            value,
        }
    }
}

/// A latitude or longitude as every command prints it: the stored value without
/// trailing zeros, keeping one decimal (`23.1`, `19.9`, `-75.0`), whatever scale
/// the column or the query gave it.
pub fn coord(value: &bigdecimal::BigDecimal) -> String {
    let n = value.normalized();
    if n.fractional_digit_count() < 1 {
        n.with_scale(1).to_string()
    } else {
        n.to_string()
    }
}

/// A CSV write error as an I/O error on stdout, keeping the operating system's error
/// (a closed pipe must stay recognisable as one).
fn csv_error(e: csv::Error) -> Error {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::io("stdout", io),
        other => Error::io("stdout", std::io::Error::other(format!("{other:?}"))),
    }
}

/// Prints `rows` in `format` to stdout.
pub fn emit<T: Serialize>(rows: &[T], columns: &[Column<T>], format: Format) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let io = |e: std::io::Error| Error::io("stdout", e);
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, rows)
                .map_err(|e| Error::io("stdout", e.into()))?;
            writeln!(out).map_err(io)?;
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            for row in rows {
                w.serialize(row).map_err(csv_error)?;
            }
            w.flush().map_err(io)?;
        }
        Format::Table => {
            // Stored text is shown with its control characters escaped: a NAME of
            // `\x1b[2J` must not clear the analyst's screen.
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    columns
                        .iter()
                        .map(|c| printable(&(c.value)(r)).into_owned())
                        .collect()
                })
                .collect();
            let widths: Vec<usize> = columns
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    cells
                        .iter()
                        .map(|r| r[i].chars().count())
                        .chain([c.header.len()])
                        .max()
                        .unwrap_or(0)
                })
                .collect();
            let line = |values: Vec<&str>| -> String {
                let mut s = String::new();
                for (i, (v, c)) in values.iter().zip(columns).enumerate() {
                    if i > 0 {
                        s.push_str("  ");
                    }
                    let pad = widths[i].saturating_sub(v.chars().count());
                    if c.right {
                        s.push_str(&" ".repeat(pad));
                        s.push_str(v);
                    } else {
                        s.push_str(v);
                        s.push_str(&" ".repeat(pad));
                    }
                }
                s.trim_end().to_string()
            };
            writeln!(out, "{}", line(columns.iter().map(|c| c.header).collect())).map_err(io)?;
            for row in &cells {
                writeln!(out, "{}", line(row.iter().map(String::as_str).collect())).map_err(io)?;
            }
        }
    }
    Ok(())
}

/// Prints the closing summary: on stdout after a table, on stderr after JSON or CSV
/// (so stdout stays one parseable document).
pub fn summary(format: Format, line: &str) {
    let line = safe(line);
    match format {
        Format::Table => println!("{line}"),
        _ => eprintln!("{line}"),
    }
}

/// `text` for a terminal: control characters escaped (`\x1b`, `\r`), line breaks
/// kept. Every line that may quote stored text (a name, an error about a value)
/// goes through it; JSON output escapes by itself, CSV is data and stays as stored.
pub fn safe(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n') {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.split('\n')
            .map(|line| printable(line).into_owned())
            .collect::<Vec<_>>()
            .join("\n"),
    )
}
