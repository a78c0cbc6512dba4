//! The store's health: whether it takes writes, and why not.
//!
//! Two things stop writes. A disk below the free-space reserve ([`super::space`]) refuses
//! them for as long as it lasts: nothing is wrong with the store, reads go on, and writes
//! resume by themselves once space returns. A failure of the storage engine (a journal sync
//! that failed, fjall poisoned by a write or background error) is final for this process: a
//! sync that failed is never retried (after a failed fsync the kernel may have dropped the
//! dirty pages, so a later "successful" fsync proves nothing), and the store is suspect until
//! it is opened again. The server reports both in its health checks, and exits on a failure
//! so that its supervisor restarts it.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::error::mib;

/// The store's health, as health checks report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Reads and writes work.
    Healthy,
    /// The disk holding the store is below the free-space reserve: writes are refused until
    /// space returns, reads work.
    DiskFull {
        /// Bytes free for the store's files at the last look.
        free_bytes: u64,
        /// The reserve writes stop at ([`crate::StoreOptions::min_free_space`]).
        reserve_bytes: u64,
    },
    /// The storage engine failed: nothing is written any more, and the store must be opened
    /// again (the server exits so that its supervisor restarts it).
    Failed {
        /// What failed, for people.
        reason: String,
    },
}

impl Health {
    /// Whether the store takes writes.
    pub fn is_healthy(&self) -> bool {
        matches!(self, Health::Healthy)
    }
}

impl std::fmt::Display for Health {
    /// What health checks print: `healthy`, or why writes are refused.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Health::Healthy => f.write_str("healthy"),
            Health::DiskFull {
                free_bytes,
                reserve_bytes,
            } => write!(
                f,
                "the disk holding the data is nearly full ({} free, below the reserve of {}): writes are refused until space is freed; reads still work",
                mib(*free_bytes),
                mib(*reserve_bytes)
            ),
            Health::Failed { reason } => write!(
                f,
                "the store failed and takes no writes until it is reopened: {reason}"
            ),
        }
    }
}

/// What the commit pipeline and the space watcher record, shared with [`StoreHealth`]
/// handles.
#[derive(Debug, Default)]
pub(crate) struct HealthState {
    failure: OnceLock<String>,
    failed: AtomicBool,
    /// The disk is below the reserve.
    disk_low: AtomicBool,
    free_bytes: AtomicU64,
    reserve_bytes: AtomicU64,
}

impl HealthState {
    /// A healthy state with writes stopping at `reserve_bytes` free.
    pub(crate) fn new(reserve_bytes: u64) -> Self {
        HealthState {
            reserve_bytes: AtomicU64::new(reserve_bytes),
            free_bytes: AtomicU64::new(u64::MAX),
            ..Default::default()
        }
    }

    /// Records a failure of the storage engine (the first one wins) and logs it.
    pub(crate) fn fail(&self, reason: String) {
        if self.failure.set(reason.clone()).is_ok() {
            tracing::error!(reason = %reason, "the store failed: writes stop until it is reopened");
        }
        self.failed.store(true, Ordering::Release);
    }

    /// The failure, if the store failed.
    pub(crate) fn failure(&self) -> Option<&str> {
        if self.failed.load(Ordering::Acquire) {
            self.failure.get().map(String::as_str)
        } else {
            None
        }
    }

    /// Records a look at the free space: `free` bytes free. Returns whether writes stop.
    pub(crate) fn set_free(&self, free: u64) -> bool {
        self.free_bytes.store(free, Ordering::Relaxed);
        let reserve = self.reserve_bytes.load(Ordering::Relaxed);
        let low = free < reserve;
        let was = self.disk_low.swap(low, Ordering::AcqRel);
        if low && !was {
            tracing::warn!(
                free_bytes = free,
                reserve_bytes = reserve,
                "the disk is below the free-space reserve: writes are refused until space is freed"
            );
        } else if was && !low {
            tracing::info!(free_bytes = free, "free space is back: writes resume");
        }
        low
    }

    /// The error a write gets now, if writes stop: the failure, or the full disk.
    pub(crate) fn refusal(&self) -> Option<crate::StoreError> {
        if let Some(reason) = self.failure() {
            return Some(crate::StoreError::Failed(reason.to_string()));
        }
        if self.disk_low.load(Ordering::Acquire) {
            return Some(crate::StoreError::DiskFull {
                free_bytes: self.free_bytes.load(Ordering::Relaxed),
                reserve_bytes: self.reserve_bytes.load(Ordering::Relaxed),
            });
        }
        None
    }

    /// The health now.
    pub(crate) fn health(&self) -> Health {
        if let Some(reason) = self.failure() {
            return Health::Failed {
                reason: reason.to_string(),
            };
        }
        if self.disk_low.load(Ordering::Acquire) {
            return Health::DiskFull {
                free_bytes: self.free_bytes.load(Ordering::Relaxed),
                reserve_bytes: self.reserve_bytes.load(Ordering::Relaxed),
            };
        }
        Health::Healthy
    }
}

/// A handle on a store's health that does not keep the store open: health checks and the
/// server's failure watch hold one.
#[derive(Debug, Clone)]
pub struct StoreHealth(pub(crate) Arc<HealthState>);

impl StoreHealth {
    /// The store's health now.
    pub fn get(&self) -> Health {
        self.0.health()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_low_disk_refuses_writes_until_space_returns_and_a_failure_is_final() {
        let h = HealthState::new(100);
        assert_eq!(h.health(), Health::Healthy);
        assert!(h.refusal().is_none());
        assert!(h.set_free(99));
        assert_eq!(
            h.health(),
            Health::DiskFull {
                free_bytes: 99,
                reserve_bytes: 100
            }
        );
        assert!(matches!(
            h.refusal(),
            Some(crate::StoreError::DiskFull { free_bytes: 99, .. })
        ));
        assert!(!h.set_free(100));
        assert!(h.health().is_healthy());
        h.fail("fsync: Input/output error".into());
        h.fail("a later failure is not the reason".into());
        assert_eq!(
            h.health(),
            Health::Failed {
                reason: "fsync: Input/output error".into()
            }
        );
        assert!(!h.set_free(1000));
        assert!(matches!(h.refusal(), Some(crate::StoreError::Failed(_))));
    }
}
