//! Triggers: what makes functions run. [`http`] serves `[[route]]`s, [`stream`] runs
//! `[[stream]]` mappings on table changes, [`schedule`] runs `[[schedule]]`s; [`status`] is
//! what they report.
pub mod http;
pub mod schedule;
pub mod status;
pub mod stream;
