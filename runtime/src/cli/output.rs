//! Command output: the one way every CLI command prints.
//!
//! `out!` prints a line of a command's output to stdout and returns a [`Result`], so a command
//! stops at the first line that cannot be written; `note!` prints a line of status (progress,
//! a warning, the final `error: ...`) to stderr. Neither ever panics, unlike `println!`, which
//! panics when stdout is a closed pipe.
//!
//! A closed stdout ([`OutputError::Closed`], `EPIPE`: `tarn backup list | head -1` after `head`
//! has its line) is not a failure: [`super::run`] ends the command quietly with success, as
//! `ls | head` does. Any other write error (a full disk under `> file`) fails the command with
//! its cause. A closed stderr is ignored: there is nowhere left to say so.

use std::fmt;
use std::io::{self, Write};

/// Why a line of output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// Stdout's reader went away: the command stops, quietly and successfully.
    #[error("stdout was closed")]
    Closed,
    /// Any other write failure.
    #[error("writing to stdout: {0}")]
    Io(#[source] io::Error),
}

impl From<io::Error> for OutputError {
    fn from(e: io::Error) -> Self {
        if e.kind() == io::ErrorKind::BrokenPipe {
            OutputError::Closed
        } else {
            OutputError::Io(e)
        }
    }
}

/// Writes `args` and a newline to `w`, flushed.
pub fn write_line(w: &mut impl Write, args: fmt::Arguments<'_>) -> Result<(), OutputError> {
    w.write_fmt(args)?;
    w.write_all(b"\n")?;
    w.flush()?;
    Ok(())
}

/// Prints one line of output to stdout (use `out!`).
pub fn line(args: fmt::Arguments<'_>) -> Result<(), OutputError> {
    write_line(&mut io::stdout().lock(), args)
}

/// Prints one line of status to stderr, ignoring a closed stderr (use `note!`).
pub fn status(args: fmt::Arguments<'_>) {
    let _ = write_line(&mut io::stderr().lock(), args);
}

/// `out!("{x}")?`: prints a line of command output to stdout; `Err(OutputError)` when it cannot.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::output::line(format_args!($($arg)*))
    };
}

/// `note!("{x}")`: prints a line of status to stderr, never failing.
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::cli::output::status(format_args!($($arg)*))
    };
}

pub(crate) use {note, out};

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer whose reader is gone, or whose disk is full.
    struct Failing(io::ErrorKind);

    impl Write for Failing {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(self.0))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn lines_are_written_whole() {
        let mut buf = Vec::new();
        write_line(&mut buf, format_args!("a\t{}", 1)).unwrap();
        write_line(&mut buf, format_args!("b")).unwrap();
        assert_eq!(buf, b"a\t1\nb\n");
    }

    #[test]
    fn a_closed_pipe_is_closed_and_other_errors_are_errors() {
        let closed = write_line(&mut Failing(io::ErrorKind::BrokenPipe), format_args!("x"));
        assert!(matches!(closed, Err(OutputError::Closed)), "{closed:?}");
        let full = write_line(&mut Failing(io::ErrorKind::StorageFull), format_args!("x"));
        assert!(matches!(full, Err(OutputError::Io(_))), "{full:?}");
    }
}
