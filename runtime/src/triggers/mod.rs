//! Triggers: what makes functions run. [`http`] serves `[[route]]`s; [`schedule`] runs
//! `[[schedule]]`s. (`[[stream]]` mappings are run by the stream trigger, which reads the store's
//! change log, and calls [`crate::host::Host::invoke_stream`].)
pub mod http;
pub mod schedule;
