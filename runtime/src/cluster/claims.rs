//! Schedule-tick claims: each tick of each schedule runs on one node of the cluster.
//!
//! Every node runs every schedule's timer; at a tick, each node tries to claim it with a
//! conditional PutItem of `(schedule, tick)` into the claims table
//! (`attribute_not_exists(pk)`): the one write that succeeds runs the tick, the others skip it.
//! A claim records the node and an `expires` time a day later; the table's TTL (enabled on
//! `expires` where the engine has TTL) deletes old claims.
//!
//! A node that cannot reach the engine at a tick does not run it: a tick may be lost while the
//! engine is unreachable, but never runs twice.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, TimeToLiveSpecification};

use super::{ClusterError, RemoteEngine};
use crate::triggers::schedule::{ClaimFuture, TickClaims};

/// How long a claim is kept before the engine's TTL may delete it.
pub const CLAIM_TTL: Duration = Duration::from_secs(86_400);
/// The claims table's TTL attribute.
pub const EXPIRES_ATTRIBUTE: &str = "expires";

/// The claims table of one cluster, as one node uses it.
#[derive(Debug)]
pub struct Claims {
    engine: Arc<RemoteEngine>,
    table: String,
    node_id: String,
}

impl Claims {
    /// Claims in `table` of `engine`, made by `node_id`.
    pub fn new(engine: Arc<RemoteEngine>, table: &str, node_id: &str) -> Self {
        Claims {
            engine,
            table: table.to_string(),
            node_id: node_id.to_string(),
        }
    }

    /// Creates the table when missing and enables TTL on `expires` (an engine without TTL,
    /// or with it enabled already, is fine: old claims then stay, which is harmless).
    pub async fn ensure_table(&self) -> Result<(), ClusterError> {
        super::ensure_table(&self.engine, &self.table, false).await?;
        let spec = TimeToLiveSpecification::builder()
            .enabled(true)
            .attribute_name(EXPIRES_ATTRIBUTE)
            .build()
            .map_err(super::builder)?;
        let ttl = self
            .engine
            .client()
            .update_time_to_live()
            .table_name(&self.table)
            .time_to_live_specification(spec)
            .send()
            .await;
        if let Err(e) = ttl {
            let e = ClusterError::sdk("enabling TTL on the claims table", e);
            tracing::debug!(table = %self.table, error = %e, "TTL not enabled on the claims table");
        }
        Ok(())
    }

    /// Claims `tick` (an RFC 3339 time) of `schedule` for this node: true when this node won
    /// it, false when another node had.
    pub async fn claim(&self, schedule: &str, tick: &str) -> Result<bool, ClusterError> {
        let expires = chrono::Utc::now().timestamp() + CLAIM_TTL.as_secs() as i64;
        let put = self
            .engine
            .client()
            .put_item()
            .table_name(&self.table)
            .item("pk", AttributeValue::S(format!("{schedule}|{tick}")))
            .item("node", AttributeValue::S(self.node_id.clone()))
            .item(EXPIRES_ATTRIBUTE, AttributeValue::N(expires.to_string()))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(e) => Err(ClusterError::sdk("claiming a schedule tick", e)),
        }
    }
}

impl TickClaims for Claims {
    fn claim<'a>(&'a self, schedule: &'a str, tick: &'a str) -> ClaimFuture<'a> {
        Box::pin(async move {
            Claims::claim(self, schedule, tick)
                .await
                .map_err(|e| e.to_string())
        })
    }
}
