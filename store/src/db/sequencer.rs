//! The commit order of writes that leave numbered records (stream records, the
//! point-in-time recovery change log), and the sequence numbers that follow it.
//!
//! Holding the [`SequenceGuard`] is holding the commit order: a batch committed while it is
//! held commits after every batch whose numbers were handed out before. Sequence numbers never
//! repeat, not even after a crash loses writes that were never acknowledged: a number is never
//! below the current time in microseconds.

use parking_lot::{Mutex, MutexGuard};

use crate::clock::now_micros;

/// Hands out sequence numbers in commit order.
///
/// Holding the [`SequenceGuard`] is holding the commit order: a batch committed while it is held
/// commits after every batch whose numbers were handed out before.
pub(crate) struct Sequencer {
    last: Mutex<u64>,
}

/// The commit order, held; hands out the next sequence numbers.
pub(crate) struct SequenceGuard<'a> {
    last: MutexGuard<'a, u64>,
}

impl Sequencer {
    /// A sequencer that continues after `last` (the highest number found on disk).
    pub(crate) fn new(last: u64) -> Self {
        Sequencer {
            last: Mutex::new(last),
        }
    }

    /// Takes the commit order.
    pub(crate) fn lock(&self) -> SequenceGuard<'_> {
        SequenceGuard {
            last: self.last.lock(),
        }
    }
}

impl SequenceGuard<'_> {
    /// The next sequence number: above every number handed out, and never below the current
    /// time in microseconds, so numbers lost in a crash are never handed out again.
    pub(crate) fn next(&mut self) -> u64 {
        *self.last = (*self.last + 1).max(now_micros());
        *self.last
    }

    /// The last number handed out.
    pub(crate) fn last(&self) -> u64 {
        *self.last
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::now_millis;

    #[test]
    fn sequence_numbers_increase_and_follow_the_clock() {
        let s = Sequencer::new(0);
        let mut g = s.lock();
        let a = g.next();
        let b = g.next();
        assert!(b > a);
        assert!(a >= now_millis() * 1000 - 1_000_000);
        drop(g);
        // A store that handed out numbers far in the future continues after them.
        let s = Sequencer::new(u64::MAX / 2);
        assert_eq!(s.lock().next(), u64::MAX / 2 + 1);
    }
}
