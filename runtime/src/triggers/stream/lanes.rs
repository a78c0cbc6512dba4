//! A mapping's lanes: the queues its records wait in, and what to hand the handler next.
//!
//! Records are spread over the lanes by a hash of their item key, so every record of one key
//! lands in the same lane, and a lane runs one invocation at a time: records of one key reach
//! the handler in order, while the lanes run side by side (Lambda's `ParallelizationFactor`:
//! concurrent batches per shard, in order per partition key).
//!
//! In a lane, records wait in one of two places:
//! - `fresh`: read from the stream, not yet handed over; they go out in batches of up to
//!   `batch_size` once the batch is full or its batching window has passed;
//! - a key's queue (`blocked`): the handler failed a record of that key. It and every later
//!   record of the key wait there and are retried with exponential backoff, while other keys
//!   go on; once retries are exhausted (or the record is too old), a batch that failed as a
//!   whole is split (`bisect_on_error`) until the failing record is alone, and that record is
//!   given up ([`Finished::given_up`]).
//!
//! Nothing here does I/O: [`Lane::next_job`] says what to invoke, [`Lane::finish`] applies the
//! handler's answer, and the runner ([`super`]) invokes, writes the on-failure records and the
//! checkpoint.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use tarn_store::clock::now_millis;
use tarn_store::stream::StreamRecord;

use super::mapping::MappingConfig;

/// First retry delay; doubled on each further failure, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// A record's item key, as the queues know it: its key attributes in DynamoDB JSON.
pub(super) fn key_of(r: &StreamRecord) -> String {
    crate::api::codec::encode_item(&r.keys).to_string()
}

/// The lane of item key `key` among `lanes`.
pub(super) fn lane_of(key: &str, lanes: usize) -> usize {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    key.hash(&mut h);
    (h.finish() % lanes.max(1) as u64) as usize
}

/// How the handler answered an invocation.
pub(super) enum Outcome {
    /// The handler returned; these sequence numbers failed.
    Failed(HashSet<u64>),
    /// The invocation failed as a whole.
    Error(String),
}

/// What a lane hands the handler.
pub(super) enum Job {
    /// Records handed over for the first time.
    Fresh(Vec<StreamRecord>),
    /// A retry of the first records of a blocked key's queue (they stay in the queue until
    /// accepted).
    Retry {
        /// The blocked key.
        key: String,
        /// The records tried.
        records: Vec<StreamRecord>,
    },
}

impl Job {
    /// The records the handler gets.
    pub(super) fn records(&self) -> &[StreamRecord] {
        match self {
            Job::Fresh(r) | Job::Retry { records: r, .. } => r,
        }
    }
}

/// What an answer did to a lane.
#[derive(Default)]
pub(super) struct Finished {
    /// Records the handler accepted.
    pub(super) accepted: u64,
    /// Records whose retries are exhausted: (record, last error, attempts). They left their
    /// queue; the runner writes them to the on-failure table (or puts them back with
    /// [`Lane::requeue`] if it cannot).
    pub(super) given_up: Vec<(StreamRecord, String, u32)>,
    /// The error to report, if anything failed.
    pub(super) error: Option<String>,
}

/// The records of one blocked item key, oldest first.
struct KeyQueue {
    records: VecDeque<StreamRecord>,
    attempts: u32,
    next_try: Instant,
    /// With bisect_on_error: the size of the next try after whole-batch failures.
    try_len: usize,
}

/// One lane: the records of the keys that hash to it, one invocation at a time.
#[derive(Default)]
pub(super) struct Lane {
    fresh: VecDeque<StreamRecord>,
    /// When the oldest record in `fresh` arrived (the batching window runs from there).
    fresh_since: Option<Instant>,
    blocked: BTreeMap<String, KeyQueue>,
    /// Sequence numbers of a fresh batch in flight.
    in_flight: Vec<u64>,
    busy: bool,
}

impl Lane {
    /// Adds a record just read from the stream.
    pub(super) fn push(&mut self, r: StreamRecord, key: String) {
        if let Some(q) = self.blocked.get_mut(&key) {
            q.records.push_back(r);
            return;
        }
        if self.fresh.is_empty() {
            self.fresh_since = Some(Instant::now());
        }
        self.fresh.push_back(r);
    }

    /// Puts a record restored from a checkpoint (read, not accepted before a restart) at the
    /// end of its key's queue, due at once: records come back in sequence order.
    pub(super) fn restore(&mut self, r: StreamRecord, now: Instant) {
        let q = self.queue(key_of(&r), 0, now);
        q.records.push_back(r);
    }

    /// Puts given-up records that could not be written anywhere back at the head of their
    /// key's queue, in order, to be tried again after a backoff.
    pub(super) fn requeue(&mut self, records: Vec<StreamRecord>, attempts: u32, now: Instant) {
        for r in records.into_iter().rev() {
            let q = self.queue(key_of(&r), attempts, now);
            q.records.push_front(r);
        }
    }

    /// The queue of `key`, made blocked with `attempts` (due after their backoff) if it is not.
    fn queue(&mut self, key: String, attempts: u32, now: Instant) -> &mut KeyQueue {
        self.blocked.entry(key).or_insert_with(|| KeyQueue {
            records: VecDeque::new(),
            attempts,
            next_try: now + backoff(attempts),
            try_len: usize::MAX,
        })
    }

    /// Records read but not yet handed over.
    pub(super) fn fresh_len(&self) -> usize {
        self.fresh.len()
    }

    /// Records waiting in blocked keys' queues.
    pub(super) fn blocked_len(&self) -> usize {
        self.blocked.values().map(|q| q.records.len()).sum()
    }

    /// Every record of the lane not yet accepted: fresh, in flight, or in a key's queue.
    pub(super) fn pending(&self) -> impl Iterator<Item = u64> + '_ {
        self.fresh
            .iter()
            .map(|r| r.seq)
            .chain(self.in_flight.iter().copied())
            .chain(
                self.blocked
                    .values()
                    .flat_map(|q| q.records.iter().map(|r| r.seq)),
            )
    }

    /// The commit time of the oldest record not yet accepted that is waiting (not in flight).
    pub(super) fn oldest_waiting_ms(&self) -> Option<u64> {
        self.blocked
            .values()
            .filter_map(|q| q.records.front())
            .chain(self.fresh.front())
            .map(|r| r.time_ms)
            .min()
    }

    /// When this lane next has something to do, if it is idle and has anything waiting: a
    /// blocked key's retry, or the end of the fresh records' batching window.
    pub(super) fn next_due(&self, config: &MappingConfig) -> Option<Instant> {
        if self.busy {
            return None;
        }
        let retry = self.blocked.values().map(|q| q.next_try).min();
        let window = self.fresh_since.map(|t| t + config.batching_window);
        retry.into_iter().chain(window).min()
    }

    /// What to invoke next, if the lane is idle and anything is due: first a blocked key whose
    /// retry time has come, then a batch of fresh records once it is full or its batching
    /// window has passed. The lane is busy until [`Lane::finish`].
    pub(super) fn next_job(&mut self, now: Instant, config: &MappingConfig) -> Option<Job> {
        if self.busy {
            return None;
        }
        if let Some((key, q)) = self.blocked.iter().find(|(_, q)| q.next_try <= now) {
            let n = q.records.len().min(config.batch_size).min(q.try_len.max(1));
            let records = q.records.iter().take(n).cloned().collect();
            let key = key.clone();
            self.busy = true;
            return Some(Job::Retry { key, records });
        }
        // Records of keys blocked since they were read join their keys' queues, in order.
        if !self.blocked.is_empty() {
            let fresh = std::mem::take(&mut self.fresh);
            for r in fresh {
                match self.blocked.get_mut(&key_of(&r)) {
                    Some(q) => q.records.push_back(r),
                    None => self.fresh.push_back(r),
                }
            }
            if self.fresh.is_empty() {
                self.fresh_since = None;
            }
        }
        let window_over = self
            .fresh_since
            .is_some_and(|t| now.saturating_duration_since(t) >= config.batching_window);
        if self.fresh.is_empty() || (self.fresh.len() < config.batch_size && !window_over) {
            return None;
        }
        let n = self.fresh.len().min(config.batch_size);
        let batch: Vec<StreamRecord> = self.fresh.drain(..n).collect();
        if self.fresh.is_empty() {
            self.fresh_since = None;
        }
        self.in_flight = batch.iter().map(|r| r.seq).collect();
        self.busy = true;
        Some(Job::Fresh(batch))
    }

    /// Applies the handler's answer to `job` (which this lane handed out). A failed fresh
    /// record blocks its key (with it, the key's later records in the batch); a retry accepts
    /// the records before the first failure, and then backs off, splits or gives up.
    pub(super) fn finish(
        &mut self,
        job: Job,
        outcome: Outcome,
        config: &MappingConfig,
    ) -> Finished {
        self.busy = false;
        match job {
            Job::Fresh(records) => {
                self.in_flight.clear();
                self.finish_fresh(records, outcome)
            }
            Job::Retry { key, records } => self.finish_retry(&key, records.len(), outcome, config),
        }
    }

    fn finish_fresh(&mut self, records: Vec<StreamRecord>, outcome: Outcome) -> Finished {
        let mut done = Finished::default();
        let mut failed_keys = HashSet::new();
        let now = Instant::now();
        for r in records {
            // A record's key is only looked at once something failed.
            let failed = match &outcome {
                Outcome::Error(_) => true,
                Outcome::Failed(set) => {
                    set.contains(&r.seq)
                        || (!failed_keys.is_empty() && failed_keys.contains(&key_of(&r)))
                }
            };
            if !failed {
                done.accepted += 1;
                continue;
            }
            let key = key_of(&r);
            failed_keys.insert(key.clone());
            self.queue(key, 1, now).records.push_back(r);
        }
        done.error = match outcome {
            Outcome::Error(e) => Some(e),
            Outcome::Failed(_) if !failed_keys.is_empty() => {
                Some("the handler reported failed records".into())
            }
            Outcome::Failed(_) => None,
        };
        done
    }

    fn finish_retry(
        &mut self,
        key: &str,
        n: usize,
        outcome: Outcome,
        config: &MappingConfig,
    ) -> Finished {
        let mut done = Finished::default();
        let Some(q) = self.blocked.get_mut(key) else {
            return done;
        };
        // The records accepted: everything before the first failure.
        let (accepted, failing, error) = match outcome {
            Outcome::Failed(set) => {
                match q.records.iter().take(n).position(|r| set.contains(&r.seq)) {
                    None => (n, 0, None),
                    Some(i) => (
                        i,
                        1,
                        Some("the handler reported the record as failed".to_string()),
                    ),
                }
            }
            Outcome::Error(e) => (0, n, Some(e)),
        };
        q.records.drain(..accepted.min(q.records.len()));
        done.accepted = accepted as u64;
        let Some(error) = error else {
            q.attempts = 0;
            q.try_len = usize::MAX;
            if q.records.is_empty() {
                self.blocked.remove(key);
            }
            return done;
        };
        q.attempts += 1;
        done.error = Some(error.clone());
        let too_many = config.max_retries.is_some_and(|m| q.attempts > m);
        let too_old = config.max_record_age.is_some_and(|age| {
            q.records
                .front()
                .is_some_and(|r| now_millis().saturating_sub(r.time_ms) > age.as_millis() as u64)
        });
        if (too_many || too_old) && config.bisect_on_error && failing > 1 {
            // Split: the first half is tried on its own, with a fresh count of retries.
            q.try_len = failing / 2;
            q.attempts = 0;
            q.next_try = Instant::now();
        } else if too_many || too_old {
            let attempts = q.attempts;
            let failing = failing.min(q.records.len());
            done.given_up = q
                .records
                .drain(..failing)
                .map(|r| (r, error.clone(), attempts))
                .collect();
            q.attempts = 0;
            q.try_len = usize::MAX;
            q.next_try = Instant::now();
            if q.records.is_empty() {
                self.blocked.remove(key);
            }
        } else {
            q.next_try = Instant::now() + backoff(q.attempts);
        }
        done
    }
}

/// The delay before retry number `attempts`.
pub(super) fn backoff(attempts: u32) -> Duration {
    if attempts == 0 {
        return Duration::ZERO;
    }
    FIRST_BACKOFF
        .saturating_mul(1 << (attempts - 1).min(16))
        .min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triggers::stream::mapping::StreamDef;
    use tarn_store::schema::{ChangeKind, StreamViewType};
    use tarn_store::AttributeValue;

    fn config(batch_size: u32, max_retries: Option<u32>, bisect: bool) -> MappingConfig {
        MappingConfig::from_def(&StreamDef {
            table: "t".into(),
            function: "f".into(),
            batch_size: Some(batch_size),
            batching_window_ms: None,
            starting_position: None,
            max_retries,
            max_record_age_s: None,
            bisect_on_error: Some(bisect),
            on_failure_table: None,
            parallelization_factor: None,
        })
        .unwrap()
    }

    fn record(seq: u64, key: &str) -> StreamRecord {
        StreamRecord {
            seq,
            time_ms: now_millis(),
            kind: ChangeKind::Insert,
            keys: [("id".to_string(), AttributeValue::S(key.into()))].into(),
            old: None,
            new: None,
            by_ttl: false,
            view_type: StreamViewType::KeysOnly,
        }
    }

    fn push(lane: &mut Lane, seq: u64, key: &str) {
        let r = record(seq, key);
        let k = key_of(&r);
        lane.push(r, k);
    }

    fn seqs(job: &Job) -> Vec<u64> {
        job.records().iter().map(|r| r.seq).collect()
    }

    #[test]
    fn backoff_doubles_up_to_a_ceiling() {
        assert_eq!(backoff(0), Duration::ZERO);
        assert_eq!(backoff(1), Duration::from_millis(100));
        assert_eq!(backoff(3), Duration::from_millis(400));
        assert_eq!(backoff(30), MAX_BACKOFF);
    }

    #[test]
    fn a_key_always_lands_in_the_same_lane() {
        for key in ["a", "b", "{\"id\":{\"S\":\"x\"}}"] {
            let lane = lane_of(key, 4);
            assert!(lane < 4);
            assert_eq!(lane, lane_of(key, 4));
        }
        assert_eq!(lane_of("a", 1), 0);
        let spread: HashSet<usize> = (0..100).map(|i| lane_of(&format!("k{i}"), 4)).collect();
        assert_eq!(spread.len(), 4, "keys spread over every lane");
    }

    #[test]
    fn one_batch_at_a_time_in_order() {
        let c = config(2, None, false);
        let mut lane = Lane::default();
        for (seq, key) in [(1, "a"), (2, "b"), (3, "a")] {
            push(&mut lane, seq, key);
        }
        let now = Instant::now();
        let job = lane.next_job(now, &c).expect("a full batch");
        assert_eq!(seqs(&job), [1, 2]);
        assert!(lane.next_job(now, &c).is_none(), "busy until finished");
        assert_eq!(lane.pending().collect::<Vec<_>>(), [3, 1, 2]);
        let done = lane.finish(job, Outcome::Failed(HashSet::new()), &c);
        assert_eq!(done.accepted, 2);
        let job = lane.next_job(now, &c).expect("the rest, window 0");
        assert_eq!(seqs(&job), [3]);
    }

    #[test]
    fn a_failed_record_blocks_its_key_and_the_rest_goes_on() {
        let c = config(10, None, false);
        let mut lane = Lane::default();
        for (seq, key) in [(1, "a"), (2, "b"), (3, "a"), (4, "c")] {
            push(&mut lane, seq, key);
        }
        let now = Instant::now();
        let job = lane.next_job(now, &c).unwrap();
        let done = lane.finish(job, Outcome::Failed([1].into()), &c);
        assert_eq!(done.accepted, 2, "b and c");
        assert!(done.error.is_some());
        // A later record of a arrives: it queues behind a's failed ones.
        push(&mut lane, 5, "a");
        push(&mut lane, 6, "d");
        let job = lane.next_job(now, &c).unwrap();
        assert_eq!(seqs(&job), [6], "a waits for its backoff");
        lane.finish(job, Outcome::Failed(HashSet::new()), &c);
        let later = now + Duration::from_secs(1);
        let job = lane.next_job(later, &c).unwrap();
        assert!(matches!(&job, Job::Retry { key, .. } if key.contains("\"a\"")));
        assert_eq!(seqs(&job), [1, 3, 5]);
        let done = lane.finish(job, Outcome::Failed(HashSet::new()), &c);
        assert_eq!(done.accepted, 3);
        assert_eq!(lane.blocked_len(), 0);
    }

    #[test]
    fn exhausted_retries_split_then_give_up_the_failing_record() {
        let c = config(10, Some(0), true);
        let mut lane = Lane::default();
        for seq in 1..=4 {
            push(&mut lane, seq, "a");
        }
        let t = Instant::now();
        let job = lane.next_job(t, &c).unwrap();
        lane.finish(job, Outcome::Error("trap".into()), &c);
        // Retried whole, fails whole: split in two (2 records), then 1.
        let mut given_up = Vec::new();
        let mut tries = Vec::new();
        for i in 0..10 {
            let Some(job) = lane.next_job(t + Duration::from_secs(60 * (i + 1)), &c) else {
                break;
            };
            let s = seqs(&job);
            tries.push(s.len());
            // Record 1 poisons any batch holding it.
            let outcome = if s.contains(&1) {
                Outcome::Error("trap".into())
            } else {
                Outcome::Failed(HashSet::new())
            };
            let done = lane.finish(job, outcome, &c);
            given_up.extend(done.given_up.into_iter().map(|(r, _, _)| r.seq));
        }
        assert_eq!(given_up, [1]);
        assert_eq!(tries[..3], [4, 2, 1], "split until alone");
        assert_eq!(lane.blocked_len(), 0, "the others were accepted");
    }

    #[test]
    fn the_batching_window_holds_a_small_batch() {
        let mut c = config(10, None, false);
        c.batching_window = Duration::from_millis(500);
        let mut lane = Lane::default();
        push(&mut lane, 1, "a");
        let now = Instant::now();
        assert!(lane.next_job(now, &c).is_none());
        assert!(lane.next_due(&c).is_some());
        assert!(lane.next_job(now + Duration::from_secs(1), &c).is_some());
    }
}
