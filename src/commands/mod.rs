//! Runs a command: resolves the `Settings` once, then hands them to the command's module
//! (`check`, `fix`, `patch`, `man`). Exit codes follow ruff: 0 nothing left to fix,
//! 1 findings remain, 2 an error in some file.
//!
//! Everything a command prints goes through [`stdout`] and [`note!`]: when the reader of
//! either stream goes away (`armfix check | head`, `armfix fix --yes . 2>&1 | head -1`), the
//! output ends quietly, as ripgrep's does, and the run goes on to its end, so `fix --yes`
//! still writes every file and the exit code is the run's own.

mod check;
mod fix;
mod man;
mod patch;
mod tally;

use crate::cli::Cli;
use crate::settings::{Mode, Settings};
use anyhow::Result;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Nothing to fix, or everything fixed.
pub(crate) const EXIT_CLEAN: i32 = 0;
/// Findings remain.
pub(crate) const EXIT_FINDINGS: i32 = 1;
/// An error in some file (or in the run).
pub const EXIT_ERROR: i32 = 2;

/// Runs the command line's command; the exit code is one of the `EXIT_*` codes.
pub fn run(cli: Cli) -> Result<i32> {
    let settings = Settings::new(cli).map_err(anyhow::Error::msg)?;
    if let Some(path) = &settings.output.summary_md {
        // Before anything is read or written: a run that writes fixes and then cannot write
        // its summary would leave a bot with changes it cannot describe.
        tally::can_write(path).map_err(anyhow::Error::msg)?;
    }
    match &settings.mode {
        Mode::Check => check::run(&settings),
        Mode::Fix { yes, dry_run } => fix::run(&settings, *yes, *dry_run),
        Mode::Patch { file } => patch::run(&settings, file),
        Mode::Completions(shell) => man::completions(*shell),
        Mode::Man => man::man(),
    }
}

/// Whether standard output's reader has gone away.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
/// Whether standard error's reader has gone away.
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

/// Standard output, locked, for what a command prints. A closed pipe is not an error: the
/// rest of the output is dropped (see the module's documentation).
pub(crate) fn stdout() -> Stdout {
    Stdout(io::stdout().lock())
}

/// Standard output that drops what it is given once its reader has gone away.
pub(crate) struct Stdout(io::StdoutLock<'static>);

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if STDOUT_CLOSED.load(Ordering::Relaxed) {
            return Ok(buf.len());
        }
        match self.0.write(buf) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                closed(libc::STDOUT_FILENO);
                Ok(buf.len())
            }
            other => other,
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if STDOUT_CLOSED.load(Ordering::Relaxed) {
            return Ok(());
        }
        match self.0.flush() {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                closed(libc::STDOUT_FILENO);
                Ok(())
            }
            other => other,
        }
    }
}

/// Writes a note (or an error line) on standard error; a closed pipe drops it. Other
/// failures to write to standard error cannot be reported anywhere, so they are dropped too.
pub fn note_fmt(args: std::fmt::Arguments<'_>) {
    if STDERR_CLOSED.load(Ordering::Relaxed) {
        return;
    }
    let mut err = io::stderr().lock();
    if let Err(e) = err.write_fmt(args).and_then(|()| err.flush()) {
        if e.kind() == io::ErrorKind::BrokenPipe {
            closed(libc::STDERR_FILENO);
        }
    }
}

/// `eprintln!` that never panics: a note on standard error, dropped when nobody reads it.
macro_rules! note {
    () => {
        $crate::commands::note_fmt(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::commands::note_fmt(format_args!("{}\n", format_args!($($arg)*)))
    };
}
pub(crate) use note;

/// `eprint!` that never panics (a prompt without its newline).
macro_rules! note_part {
    ($($arg:tt)*) => {
        $crate::commands::note_fmt(format_args!($($arg)*))
    };
}
pub(crate) use note_part;

/// Marks `fd`'s reader as gone, and points `fd` at /dev/null so that nothing else (a buffer
/// flushed at exit, a `print!` elsewhere) fails on it again. When standard output and error
/// are the same pipe (`2>&1 | head`), both are closed.
fn closed(fd: libc::c_int) {
    let same_pipe = same_file(libc::STDOUT_FILENO, libc::STDERR_FILENO);
    let mut fds = vec![fd];
    if same_pipe {
        fds = vec![libc::STDOUT_FILENO, libc::STDERR_FILENO];
    }
    for fd in fds {
        if fd == libc::STDOUT_FILENO {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
        } else {
            STDERR_CLOSED.store(true, Ordering::Relaxed);
        }
        to_dev_null(fd);
    }
}

/// Whether two descriptors are the same open pipe or file.
fn same_file(a: libc::c_int, b: libc::c_int) -> bool {
    // SAFETY: fstat only writes into the zeroed buffers it is given.
    unsafe {
        let mut sa: libc::stat = std::mem::zeroed();
        let mut sb: libc::stat = std::mem::zeroed();
        libc::fstat(a, &mut sa) == 0
            && libc::fstat(b, &mut sb) == 0
            && sa.st_dev == sb.st_dev
            && sa.st_ino == sb.st_ino
    }
}

/// Points `fd` at /dev/null.
fn to_dev_null(fd: libc::c_int) {
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        use std::os::fd::AsRawFd;
        // SAFETY: dup2 onto a standard descriptor this process owns; `null` stays open
        // until the call returns.
        unsafe {
            libc::dup2(null.as_raw_fd(), fd);
        }
    }
}
