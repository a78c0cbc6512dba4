//! Cheap questions to the engine that the node asks on its own behalf: does it answer (the
//! health checks), and how big are its tables (the metrics' item counts and sizes).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{EngineError, RemoteEngine};

/// How long an answer about the engine's reachability is reused.
pub const HEALTH_TTL: Duration = Duration::from_secs(2);
/// How long the reachability call may take before the engine counts as not answering.
pub const HEALTH_TIMEOUT: Duration = Duration::from_secs(2);

impl RemoteEngine {
    /// Whether the engine answers: a `ListTables` of one name within [`HEALTH_TIMEOUT`],
    /// remembered for [`HEALTH_TTL`]. Err says why not.
    pub async fn reachable(&self) -> Result<(), String> {
        if let Some((at, answer)) = self.reachability.lock().as_ref() {
            if at.elapsed() < HEALTH_TTL {
                return answer.clone();
            }
        }
        let probe = json!({"Limit": 1});
        let call = self.call("ListTables", &probe);
        let answer = match tokio::time::timeout(HEALTH_TIMEOUT, call).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(EngineError::Transport(why))) => Err(format!(
                "the engine at {} does not answer: {why}",
                self.url()
            )),
            Ok(Err(e)) => Err(format!("the engine at {} answered: {e}", self.url())),
            Err(_) => Err(format!(
                "the engine at {} did not answer within {} s",
                self.url(),
                HEALTH_TIMEOUT.as_secs()
            )),
        };
        *self.reachability.lock() = Some((Instant::now(), answer.clone()));
        answer
    }

    /// Every table and index in the engine with its size, from each table's `DescribeTable`:
    /// (table, index or `""`, items, bytes). Err when the engine does not list its tables (a
    /// table deleted between the listing and its description is left out).
    pub async fn table_sizes(&self) -> Result<Vec<(String, String, u64, u64)>, EngineError> {
        let names =
            all_table_names(|req| async move { self.call("ListTables", &req).await }).await?;
        let described =
            futures_util::future::join_all(names.into_iter().map(|n| async move {
                self.call("DescribeTable", &json!({"TableName": n})).await
            }))
            .await;
        Ok(described
            .into_iter()
            .filter_map(Result::ok)
            .flat_map(|d| described_sizes(&d["Table"]))
            .collect())
    }
}

/// Every table name `list` answers, following `LastEvaluatedTableName` page by page: `list`
/// sends one ListTables request (given as its JSON body) to an engine or to the embedded API.
pub async fn all_table_names<E, F, Fut>(mut list: F) -> Result<Vec<String>, E>
where
    F: FnMut(Value) -> Fut,
    Fut: std::future::Future<Output = Result<Value, E>>,
{
    let mut names = Vec::new();
    let mut start: Option<String> = None;
    loop {
        let mut req = json!({"Limit": 100});
        if let Some(s) = &start {
            req["ExclusiveStartTableName"] = json!(s);
        }
        let page = list(req).await?;
        names.extend(
            page["TableNames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|n| n.as_str().map(str::to_owned)),
        );
        match page["LastEvaluatedTableName"].as_str() {
            Some(s) => start = Some(s.to_string()),
            None => return Ok(names),
        }
    }
}

/// The sizes in a TableDescription: the table's, then each index's.
fn described_sizes(t: &Value) -> Vec<(String, String, u64, u64)> {
    let Some(name) = t["TableName"].as_str() else {
        return Vec::new();
    };
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    let mut out = vec![(
        name.to_string(),
        String::new(),
        n(&t["ItemCount"]),
        n(&t["TableSizeBytes"]),
    )];
    for kind in ["GlobalSecondaryIndexes", "LocalSecondaryIndexes"] {
        for ix in t[kind].as_array().into_iter().flatten() {
            if let Some(ix_name) = ix["IndexName"].as_str() {
                out.push((
                    name.to_string(),
                    ix_name.to_string(),
                    n(&ix["ItemCount"]),
                    n(&ix["IndexSizeBytes"]),
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn described_sizes_list_the_table_then_its_indexes() {
        let t = json!({
            "TableName": "t", "ItemCount": 3, "TableSizeBytes": 120,
            "GlobalSecondaryIndexes": [{"IndexName": "g", "ItemCount": 2, "IndexSizeBytes": 40}],
        });
        assert_eq!(
            described_sizes(&t),
            vec![
                ("t".into(), "".into(), 3, 120),
                ("t".into(), "g".into(), 2, 40)
            ]
        );
        assert!(described_sizes(&json!({})).is_empty());
    }

    #[tokio::test]
    async fn an_engine_that_does_not_listen_is_unreachable_and_the_answer_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("credentials");
        std::fs::write(
            &keys,
            "[default]\naws_access_key_id = k\naws_secret_access_key = s\n",
        )
        .unwrap();
        // A port nothing listens on: bound, then closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let engine = RemoteEngine::connect(&super::super::EngineConfig {
            endpoint: super::super::Endpoint::Url(format!("http://127.0.0.1:{port}")),
            region: Some("us-east-1".into()),
            credentials_file: Some(keys),
        })
        .await
        .unwrap();
        let why = engine.reachable().await.unwrap_err();
        assert!(why.contains("does not answer"), "{why}");
        assert!(why.contains(&port.to_string()), "{why}");
        // Within the TTL the same answer comes back without asking again.
        let at = engine.reachability.lock().as_ref().unwrap().0;
        assert_eq!(engine.reachable().await.unwrap_err(), why);
        assert_eq!(engine.reachability.lock().as_ref().unwrap().0, at);
        assert!(engine.table_sizes().await.is_err());
    }
}
