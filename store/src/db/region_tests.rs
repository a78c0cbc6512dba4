//! Tests of regional tables (see [`crate::schema::region`]): the same name in two regions, and
//! a catalog written before tables had regions.

use crate::schema::{table_ref, HOME_REGION};
use crate::testutil::{item, n, s, spec};
use crate::{Store, StoreError};

#[test]
fn one_name_in_two_regions_holds_two_tables() {
    let dir = tempfile::tempdir().unwrap();
    let eu = table_ref("eu-west-1", "orders");
    {
        let store = Store::open(dir.path()).unwrap();
        let home = store.create_table(spec("orders", None)).unwrap();
        let other = store.create_table(spec(&eu, None)).unwrap();
        assert_eq!(
            (home.name.as_str(), home.region.as_str()),
            ("orders", HOME_REGION)
        );
        assert_eq!(
            (other.name.as_str(), other.region.as_str()),
            ("orders", "eu-west-1")
        );
        assert_ne!(home.id, other.id);
        assert!(matches!(
            store.create_table(spec(&eu, None)),
            Err(StoreError::ResourceInUse(_))
        ));
        store
            .put_item("orders", item(&[("pk", s("a")), ("v", n(1))]), |_| Ok(()))
            .unwrap();
        store
            .put_item(&eu, item(&[("pk", s("a")), ("v", n(2))]), |_| Ok(()))
            .unwrap();
        store.create_table(spec("eu-west-1/zeta", None)).unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let key = item(&[("pk", s("a"))]);
    assert_eq!(store.get_item("orders", &key).unwrap().unwrap()["v"], n(1));
    assert_eq!(store.get_item(&eu, &key).unwrap().unwrap()["v"], n(2));
    assert_eq!(
        store.list_tables_in(HOME_REGION, None, 10),
        (vec!["orders".to_string()], None)
    );
    assert_eq!(
        store.list_tables_in("eu-west-1", None, 1),
        (vec!["orders".to_string()], Some("orders".to_string()))
    );
    assert_eq!(
        store.list_tables_in("eu-west-1", Some("orders"), 1),
        (vec!["zeta".to_string()], None)
    );
    assert!(store.list_tables_in("ap-south-1", None, 10).0.is_empty());
    // A table of another region is not found, and the message names the table alone.
    let err = store.get_item("ap-south-1/orders", &key).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Requested resource not found: Table: orders not found"
    );
    // Deleting one leaves the other.
    store.delete_table(&eu).unwrap();
    assert!(store.get_item(&eu, &key).is_err());
    assert_eq!(store.get_item("orders", &key).unwrap().unwrap()["v"], n(1));
}

#[test]
fn a_reference_names_a_valid_region_and_name() {
    let (_dir, store) = crate::testutil::open();
    for bad in ["EU/orders", "eu-west-1/or/ders", "eu-west-1/o!"] {
        assert!(
            matches!(
                store.create_table(spec(bad, None)),
                Err(StoreError::Validation(_))
            ),
            "{bad}"
        );
    }
}

/// A data directory whose catalog was written before tables had regions (definitions without
/// a `region`, kept under the bare name) opens with every table in the home region, items and
/// all.
#[test]
fn a_catalog_without_regions_opens_in_the_home_region() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        store.create_table(spec("legacy", None)).unwrap();
        store
            .put_item("legacy", item(&[("pk", s("k")), ("v", n(7))]), |_| Ok(()))
            .unwrap();
    }
    // Rewrite the definition as the previous format had it: the same record without `region`.
    {
        let fjall = fjall::Database::builder(dir.path()).open().unwrap();
        let catalog = fjall
            .keyspace(super::CATALOG, fjall::KeyspaceCreateOptions::default)
            .unwrap();
        let old = catalog.get("legacy").unwrap().unwrap();
        let mut json: serde_json::Value = serde_json::from_slice(&old).unwrap();
        assert_eq!(json["region"], HOME_REGION);
        json.as_object_mut().unwrap().remove("region");
        catalog
            .insert("legacy", serde_json::to_vec(&json).unwrap())
            .unwrap();
        fjall.persist(fjall::PersistMode::SyncAll).unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let meta = store.table_meta("legacy").unwrap();
    assert_eq!(
        (meta.name.as_str(), meta.region.as_str()),
        ("legacy", HOME_REGION)
    );
    assert_eq!(
        store.list_tables_in(HOME_REGION, None, 10).0,
        vec!["legacy".to_string()]
    );
    assert!(store.list_tables_in("eu-west-1", None, 10).0.is_empty());
    let got = store
        .get_item("legacy", &item(&[("pk", s("k"))]))
        .unwrap()
        .unwrap();
    assert_eq!(got["v"], n(7));
    // Its next change writes the region down, under the same key.
    store
        .tag_table("legacy", [("a".to_string(), "b".to_string())].into())
        .unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(store.list_tables(None, 10).0, vec!["legacy".to_string()]);
    assert_eq!(store.table_meta("legacy").unwrap().tags.len(), 1);
}
