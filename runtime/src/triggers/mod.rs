//! Triggers: what makes functions run. [`http`] runs the function of a request's route
//! ([`routes`] is the route table it looks in), [`stream`] runs `[[stream]]` mappings on table
//! changes, [`schedule`] runs `[[schedule]]`s; [`status`] is what they report.
//!
//! Triggers sit below deploy: they take what they run (the functions, the route table, the
//! mapping and schedule definitions) as arguments and import nothing from `crate::deploy`.
//! The definitions the manifest parses and the triggers consume ([`stream::StreamDef`],
//! [`schedule::ScheduleDef`]) live here, and the manifest uses them.

pub mod http;
pub mod routes;
pub mod schedule;
pub mod status;
pub mod stream;

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::host::LoadedFunction;

/// The loaded functions of one app version, by name: what every trigger runs.
pub type Functions = BTreeMap<String, Arc<LoadedFunction>>;
