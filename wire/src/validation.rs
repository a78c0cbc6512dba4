//! [`ValidationErrors`]: constraint failures collected into one `ValidationException`, worded
//! as DynamoDB words them (`2 validation errors detected: Value 'ab' at 'tableName' failed to
//! satisfy constraint: ...; ...`), and [`member_path`], the name a member has in those messages.

use crate::error::ApiError;

/// A member name as DynamoDB writes it in validation messages: first letter lower-cased
/// (`TableName` -> `tableName`).
pub fn member_path(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Collects constraint failures and reports them in one `ValidationException`, as DynamoDB
/// does: `2 validation errors detected: Value 'ab' at 'tableName' failed to satisfy constraint:
/// Member must have length greater than or equal to 3; Value ...`.
#[derive(Debug, Default, Clone)]
pub struct ValidationErrors {
    errors: Vec<String>,
}

impl ValidationErrors {
    /// No failures yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that the member at `path` (a request member name like `TableName`, or a dotted
    /// path like `keySchema.1.member.attributeName`) holding `value` (`None` for null) breaks
    /// `constraint` (`Member must not be null`...).
    pub fn push(&mut self, path: &str, value: Option<&str>, constraint: &str) {
        let value = match value {
            Some(v) => format!("'{v}'"),
            None => "null".to_string(),
        };
        self.errors.push(format!(
            "Value {value} at '{}' failed to satisfy constraint: {constraint}",
            member_path(path)
        ));
    }

    /// Records a missing required member.
    pub fn not_null(&mut self, path: &str) {
        self.push(path, None, "Member must not be null");
    }

    /// Checks a table or index name: 3 to 255 characters of `[a-zA-Z0-9_.-]`.
    pub fn check_name(&mut self, path: &str, value: &str) {
        for rule in tarn_store::schema::name_rule_violations(value) {
            self.push(path, Some(value), rule.constraint());
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The combined error, if any failure was recorded.
    pub fn into_error(self) -> Option<ApiError> {
        if self.errors.is_empty() {
            return None;
        }
        let n = self.errors.len();
        let plural = if n == 1 { "" } else { "s" };
        Some(ApiError::validation(format!(
            "{n} validation error{plural} detected: {}",
            self.errors.join("; ")
        )))
    }

    /// `Ok` when nothing was recorded, else the combined error.
    pub fn finish(self) -> Result<(), ApiError> {
        match self.into_error() {
            None => Ok(()),
            Some(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::kind;

    #[test]
    fn failures_are_counted_and_joined() {
        assert!(ValidationErrors::new().finish().is_ok());
        let mut errors = ValidationErrors::new();
        errors.not_null("TableName");
        errors.push(
            "keySchema.1.member.keyType",
            Some("X"),
            "Member must satisfy enum value set: [HASH, RANGE]",
        );
        assert!(!errors.is_empty());
        let e = errors.into_error().unwrap();
        assert_eq!(e.kind, kind::VALIDATION);
        assert_eq!(
            e.message,
            "2 validation errors detected: Value null at 'tableName' failed to satisfy constraint: \
             Member must not be null; Value 'X' at 'keySchema.1.member.keyType' failed to satisfy \
             constraint: Member must satisfy enum value set: [HASH, RANGE]"
        );
    }

    #[test]
    fn member_paths_start_lower_case() {
        assert_eq!(member_path("TableName"), "tableName");
        assert_eq!(member_path("keySchema"), "keySchema");
        assert_eq!(member_path(""), "");
    }
}
