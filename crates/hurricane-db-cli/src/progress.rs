//! The loader's progress drawn with indicatif: a bar while rows stream, a spinner while
//! the merge runs. Only on a terminal; piped output stays quiet.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hurricane_db::ingest::Progress;
use indicatif::{ProgressBar, ProgressStyle};

/// Draws on stderr; `None` when stderr is not a terminal.
pub fn terminal() -> Option<Arc<dyn Progress>> {
    std::io::stderr()
        .is_terminal()
        .then(|| Arc::new(Bar::default()) as Arc<dyn Progress>)
}

#[derive(Default)]
struct Bar {
    state: Mutex<Option<(ProgressBar, Instant)>>,
}

impl Bar {
    fn with(&self, f: impl FnOnce(&mut Option<(ProgressBar, Instant)>)) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut state);
    }
}

impl Progress for Bar {
    fn start(&self, total_bytes: u64) {
        let bar = ProgressBar::new(total_bytes);
        if let Ok(style) = ProgressStyle::with_template("{wide_bar} {percent:>3}% {msg} eta {eta}")
        {
            bar.set_style(style);
        }
        self.with(|s| *s = Some((bar, Instant::now())));
    }

    fn advance(&self, bytes_read: u64, rows: u64) {
        self.with(|s| {
            if let Some((bar, started)) = s {
                bar.set_position(bytes_read);
                let rate = rows as f64 / started.elapsed().as_secs_f64().max(1e-9);
                bar.set_message(format!("{rows} rows, {rate:.0} rows/s"));
            }
        });
    }

    fn phase(&self, message: &str) {
        self.with(|s| {
            if let Some((bar, _)) = s.take() {
                bar.finish_and_clear();
            }
            let spinner = ProgressBar::new_spinner();
            spinner.set_message(message.to_string());
            spinner.enable_steady_tick(Duration::from_millis(100));
            *s = Some((spinner, Instant::now()));
        });
    }

    fn finish(&self) {
        self.with(|s| {
            if let Some((bar, _)) = s.take() {
                bar.finish_and_clear();
            }
        });
    }
}
