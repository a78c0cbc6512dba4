//! Table ARNs: the ARN DynamoDB gives a table in this API's region and account, and the table
//! name inside one. Tables, indexes, streams, backups, exports and imports all build their ARNs
//! on the table's, so it lives here rather than with any one of them.

use crate::api::Api;
use tarn_wire::ApiError;

/// The table ARN DynamoDB would give `name`.
pub(crate) fn table_arn(api: &Api, name: &str) -> String {
    format!(
        "arn:aws:dynamodb:{}:{}:table/{}",
        api.region(),
        api.account_id(),
        name
    )
}

/// The table name inside a table ARN (`arn:aws:dynamodb:<region>:<account>:table/<name>`).
pub(crate) fn table_from_arn(arn: &str) -> Result<&str, ApiError> {
    let invalid = || {
        ApiError::validation(format!(
            "Invalid TableArn: Invalid ResourceArn provided as input {arn}"
        ))
    };
    let rest = arn.strip_prefix("arn:").ok_or_else(invalid)?;
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    if parts.len() != 5 || parts[1] != "dynamodb" {
        return Err(invalid());
    }
    let name = parts[4].strip_prefix("table/").ok_or_else(invalid)?;
    if name.is_empty() || name.contains('/') {
        return Err(invalid());
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_name_tables() {
        assert_eq!(
            table_from_arn("arn:aws:dynamodb:us-east-1:000000000000:table/orders").unwrap(),
            "orders"
        );
        for bad in [
            "orders",
            "arn:aws:s3:::bucket",
            "arn:aws:dynamodb:us-east-1:1:table/",
            "arn:aws:dynamodb:r:1:index/x",
        ] {
            assert_eq!(
                table_from_arn(bad).unwrap_err().kind,
                "ValidationException",
                "{bad}"
            );
        }
    }
}
