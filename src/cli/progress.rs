//! Progress bars on stderr, drawn only when stderr is a terminal (so pipes, CI logs and JSON stay clean).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether bars are watched from another thread instead of drawn ([`watch`]).
static WATCHING: AtomicBool = AtomicBool::new(false);
/// The last bar made while watching.
static WATCHED: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// From now on bars are not drawn but kept for [`watched`] to read (an in-process caller draws them its own
/// way: the Python package's tqdm bar). The last bar made is the one read.
pub fn watch() {
    WATCHING.store(true, Ordering::SeqCst);
    if let Ok(mut w) = WATCHED.lock() {
        *w = None;
    }
}

/// The last watched bar's position, length and message.
pub fn watched() -> Option<(u64, Option<u64>, String)> {
    let bar = WATCHED.lock().ok()?.clone()?;
    Some((bar.position(), bar.length(), bar.message()))
}

/// A bar for `len` units labelled `msg`; hidden unless stderr is a terminal.
pub fn bar(len: u64, msg: &str) -> ProgressBar {
    if WATCHING.load(Ordering::SeqCst) {
        let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::hidden());
        pb.set_message(msg.to_string());
        if let Ok(mut w) = WATCHED.lock() {
            *w = Some(pb.clone());
        }
        return pb;
    }
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    if let Ok(style) = ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})") {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(msg.to_string());
    pb
}
