//! Regions: a table belongs to one region, as in DynamoDB, and its identity in the catalog is
//! its region and its name. Two regions may each hold a table of the same name, with
//! different items; a request made in one region never sees the tables of another.
//!
//! The store addresses a table by its **table reference**, a string: `name` for a table of
//! the [`HOME_REGION`], `region/name` for a table of any other region ([`table_ref`] makes
//! one, [`split_table_ref`] takes one apart). A table name never holds a `/` (DynamoDB allows
//! `[a-zA-Z0-9_.-]`), so a reference is unambiguous. Every store method that names a table
//! takes its reference, and the catalog keeps each definition under it. The home region's
//! references are the bare names catalogs were keyed by before tables had regions, so a data
//! directory made then opens with every table in the home region, and nothing moves on
//! upgrade ([`crate::schema::TableMeta::region`] defaults to it when a definition has none).
//!
//! # Replication between regions, later
//!
//! The catalog is laid out so that a table replicated to several regions (DynamoDB's global
//! tables) needs no change of identity: each replica is a table of its own, in its region,
//! under its own reference, with its own id and keyspaces (items, indexes, streams, history),
//! exactly as a table made there by CreateTable. Replication then adds, beside the existing
//! fields:
//!
//! - a replica-group field on each replica's definition (the group's id and the regions in
//!   it), which UpdateTable's `ReplicaUpdates` writes on every member under the DDL lock;
//! - a replicator per replica that follows the other replicas' stream logs (the records
//!   carry old and new images and a commit-ordered sequence number already) and applies
//!   each change with the write path, resolving concurrent writes to one key by the
//!   latest-writer rule DynamoDB uses (a per-item timestamp written with the item);
//! - writes it applies are marked as replicated in their own stream records, so they are not
//!   sent back to where they came from.
//!
//! None of this changes how a table is named or found: a reference stays `region/name`.

/// The region of tables made before tables had regions, and of references without one.
pub const HOME_REGION: &str = "us-east-1";

/// The reference of table `name` in `region`: the bare name in the [`HOME_REGION`],
/// `region/name` elsewhere.
pub fn table_ref(region: &str, name: &str) -> String {
    if region == HOME_REGION {
        name.to_string()
    } else {
        format!("{region}/{name}")
    }
}

/// A table reference's region and name (the [`HOME_REGION`] for a bare name).
pub fn split_table_ref(table: &str) -> (&str, &str) {
    table.split_once('/').unwrap_or((HOME_REGION, table))
}

/// Whether `region` is a region name tarn accepts: 1 to 64 lowercase ASCII letters, digits
/// and dashes (`us-east-1`, `eu-west-1`, `ap-southeast-2`, `local`).
pub fn is_valid_region(region: &str) -> bool {
    !region.is_empty()
        && region.len() <= 64
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The serde default of [`crate::schema::TableMeta::region`]: definitions written before
/// tables had regions belong to the home region.
pub(crate) fn home_region() -> String {
    HOME_REGION.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_round_trip() {
        assert_eq!(table_ref("us-east-1", "Orders"), "Orders");
        assert_eq!(table_ref("eu-west-1", "Orders"), "eu-west-1/Orders");
        assert_eq!(split_table_ref("Orders"), ("us-east-1", "Orders"));
        assert_eq!(split_table_ref("eu-west-1/Orders"), ("eu-west-1", "Orders"));
        for (region, name) in [("us-east-1", "a.b-c_d"), ("ap-southeast-2", "t")] {
            let r = table_ref(region, name);
            assert_eq!(split_table_ref(&r), (region, name));
        }
    }

    #[test]
    fn region_names() {
        assert!(is_valid_region("us-east-1"));
        assert!(is_valid_region("local"));
        assert!(!is_valid_region(""));
        assert!(!is_valid_region("US-EAST-1"));
        assert!(!is_valid_region("a/b"));
        assert!(!is_valid_region(&"a".repeat(65)));
    }
}
