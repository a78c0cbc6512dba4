//! A request's expressions: ConditionExpression, UpdateExpression, ProjectionExpression,
//! FilterExpression and KeyConditionExpression with their ExpressionAttributeNames/Values, or
//! the legacy parameters that came before them (Expected, AttributeUpdates, AttributesToGet,
//! QueryFilter, ScanFilter, KeyConditions, ConditionalOperator).
//!
//! [`RequestExprs`] reads all of them from one request (or one element of a transaction), turns
//! the legacy forms into the same syntax trees, and applies DynamoDB's cross-parameter rules:
//! expression and legacy parameters never mix, and every name and value placeholder is used.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use tarn_store::expr::{
    self, AttributeAction, AttributeUpdate, ComparisonOperator, Condition, ConditionalOperator,
    ExpectedAttribute, ExprContext, KeyCondition, Projection, UpdateExpr,
};
use tarn_store::{Item, StoreError};

use tarn_wire::ApiError;
use tarn_wire::{decode_value, optional_object, optional_str, optional_string_map};

/// The expression context of a request: its placeholder maps, and whether it uses expression
/// or legacy parameters.
pub(crate) struct RequestExprs<'a> {
    body: &'a Value,
    ctx: ExprContext,
    has_names: bool,
    has_values: bool,
    used_expression: Vec<&'static str>,
    used_legacy: Vec<&'static str>,
    /// The top-level attributes of the document paths of more than one element the
    /// expressions read or write (`a` of `a[0]` or `a.b`), for [`RequestExprs::check_key_paths`].
    nested: Vec<String>,
}

/// Records the top attribute of each path of more than one element.
fn note_nested<'p>(out: &mut Vec<String>, paths: impl IntoIterator<Item = &'p expr::Path>) {
    for p in paths {
        if p.0.len() > 1 && !out.iter().any(|n| n == p.top()) {
            out.push(p.top().to_string());
        }
    }
}

/// The paths an update operand reads.
fn operand_paths<'u>(o: &'u expr::UpdateOperand, out: &mut Vec<&'u expr::Path>) {
    match o {
        expr::UpdateOperand::Path(p) => out.push(p),
        expr::UpdateOperand::Value(_) => {}
        expr::UpdateOperand::IfNotExists(p, v) => {
            out.push(p);
            operand_paths(v, out);
        }
        expr::UpdateOperand::ListAppend(a, b) => {
            operand_paths(a, out);
            operand_paths(b, out);
        }
    }
}

fn present(body: &Value, member: &str) -> bool {
    body.get(member).is_some_and(|v| !v.is_null())
}

impl<'a> RequestExprs<'a> {
    /// Reads ExpressionAttributeNames and ExpressionAttributeValues of `body`.
    pub(crate) fn new(body: &'a Value) -> Result<Self, ApiError> {
        let names = optional_string_map(body, "ExpressionAttributeNames")?;
        let values = match optional_object(body, "ExpressionAttributeValues")? {
            None => None,
            Some(map) => {
                let mut out = HashMap::new();
                for (k, v) in map {
                    if !k.starts_with(':') {
                        return Err(ApiError::validation(format!(
                            "ExpressionAttributeValues contains invalid key: Syntax error; key: \"{k}\""
                        )));
                    }
                    out.insert(k.clone(), decode_value(v)?);
                }
                Some(out)
            }
        };
        if let Some(names) = &names {
            if names.is_empty() {
                return Err(ApiError::validation(
                    "ExpressionAttributeNames must not be empty",
                ));
            }
            if let Some(k) = names.keys().find(|k| !k.starts_with('#')) {
                return Err(ApiError::validation(format!(
                    "ExpressionAttributeNames contains invalid key: Syntax error; key: \"{k}\""
                )));
            }
        }
        if values.as_ref().is_some_and(HashMap::is_empty) {
            return Err(ApiError::validation(
                "ExpressionAttributeValues must not be empty",
            ));
        }
        Ok(RequestExprs {
            body,
            has_names: names.is_some(),
            has_values: values.is_some(),
            ctx: ExprContext::new(
                names.unwrap_or_default().into_iter().collect(),
                values.unwrap_or_default(),
            ),
            used_expression: Vec::new(),
            used_legacy: Vec::new(),
            nested: Vec::new(),
        })
    }

    fn expression(&mut self, member: &'static str) -> Result<Option<&'a str>, ApiError> {
        let s = optional_str(self.body, member)?;
        if s.is_some() {
            self.used_expression.push(member);
        }
        Ok(s)
    }

    fn legacy(&mut self, member: &'static str) -> bool {
        let p = present(self.body, member);
        if p {
            self.used_legacy.push(member);
        }
        p
    }

    /// Refuses a request that mixes expression and legacy parameters seen so far.
    fn check_mix(&self) -> Result<(), ApiError> {
        if !self.used_expression.is_empty() && !self.used_legacy.is_empty() {
            return Err(ApiError::validation(format!(
                "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {{{}}} Expression parameters: {{{}}}",
                self.used_legacy.join(", "),
                self.used_expression.join(", ")
            )));
        }
        Ok(())
    }

    fn conditional_operator(&mut self) -> Result<ConditionalOperator, ApiError> {
        match optional_str(self.body, "ConditionalOperator")? {
            None => Ok(ConditionalOperator::And),
            Some(op) => {
                self.used_legacy.push("ConditionalOperator");
                match op {
                    "AND" => Ok(ConditionalOperator::And),
                    "OR" => Ok(ConditionalOperator::Or),
                    other => Err(ApiError::validation(format!(
                        "1 validation error detected: Value '{other}' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [OR, AND]"
                    ))),
                }
            }
        }
    }

    /// ConditionExpression, or Expected (+ ConditionalOperator).
    pub(crate) fn condition(&mut self) -> Result<Option<Condition>, ApiError> {
        let expression = self.expression("ConditionExpression")?;
        let legacy = self.legacy("Expected");
        self.check_mix()?;
        if let Some(e) = expression {
            let c = self.ctx.parse_condition(e)?;
            note_nested(&mut self.nested, c.paths());
            return Ok(Some(c));
        }
        let has_operator = self
            .body
            .get("ConditionalOperator")
            .is_some_and(|v| !v.is_null());
        let no_expected = self
            .body
            .get("Expected")
            .is_none_or(|v| v.is_null() || v.as_object().is_some_and(|m| m.is_empty()));
        if has_operator && no_expected {
            // As in DynamoDB: an empty Expected is no condition, but it cannot carry a
            // ConditionalOperator.
            return Err(ApiError::validation(
                "ConditionalOperator cannot be used without Expected or with an empty Expected",
            ));
        }
        if legacy {
            let op = self.conditional_operator()?;
            return Ok(expr::expected(
                &legacy_conditions(self.body, "Expected")?,
                op,
            )?);
        }
        Ok(None)
    }

    /// FilterExpression, or QueryFilter/ScanFilter (+ ConditionalOperator).
    pub(crate) fn filter(
        &mut self,
        legacy_member: &'static str,
    ) -> Result<Option<Condition>, ApiError> {
        let expression = self.expression("FilterExpression")?;
        let legacy = self.legacy(legacy_member);
        self.check_mix()?;
        if let Some(e) = expression {
            let c = self.ctx.parse_filter(e)?;
            note_nested(&mut self.nested, c.paths());
            return Ok(Some(c));
        }
        if legacy {
            let op = self.conditional_operator()?;
            return Ok(expr::filter(
                &legacy_conditions(self.body, legacy_member)?,
                op,
            )?);
        }
        Ok(None)
    }

    /// ProjectionExpression, or AttributesToGet.
    pub(crate) fn projection(&mut self) -> Result<Option<Projection>, ApiError> {
        let expression = self.expression("ProjectionExpression")?;
        let legacy = self.legacy("AttributesToGet");
        self.check_mix()?;
        if let Some(e) = expression {
            let p = self.ctx.parse_projection(e)?;
            note_nested(&mut self.nested, &p.paths);
            return Ok(Some(p));
        }
        if legacy {
            let names: Vec<String> = self.body["AttributesToGet"]
                .as_array()
                .ok_or_else(|| {
                    ApiError::serialization("AttributesToGet must be a list of strings")
                })?
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        ApiError::serialization("AttributesToGet must be a list of strings")
                    })
                })
                .collect::<Result<_, _>>()?;
            return Ok(Some(expr::attributes_to_get(&names)?));
        }
        Ok(None)
    }

    /// UpdateExpression, or AttributeUpdates.
    pub(crate) fn update(&mut self) -> Result<Option<UpdateExpr>, ApiError> {
        let expression = self.expression("UpdateExpression")?;
        let legacy = self.legacy("AttributeUpdates");
        self.check_mix()?;
        if let Some(e) = expression {
            let u = self.ctx.parse_update(e)?;
            let mut read = Vec::new();
            for (_, v) in &u.set {
                match v {
                    expr::SetValue::Operand(o) => operand_paths(o, &mut read),
                    expr::SetValue::Plus(a, b) | expr::SetValue::Minus(a, b) => {
                        operand_paths(a, &mut read);
                        operand_paths(b, &mut read);
                    }
                }
            }
            note_nested(&mut self.nested, u.paths().chain(read));
            return Ok(Some(u));
        }
        if legacy {
            let mut entries = BTreeMap::new();
            let map = optional_object(self.body, "AttributeUpdates")?
                .cloned()
                .unwrap_or_default();
            for (name, u) in map {
                let action = match u.get("Action").and_then(Value::as_str).unwrap_or("PUT") {
                    "PUT" => AttributeAction::Put,
                    "ADD" => AttributeAction::Add,
                    "DELETE" => AttributeAction::Delete,
                    other => {
                        return Err(ApiError::validation(format!(
                            "1 validation error detected: Value '{other}' at 'attributeUpdates.{name}.member.action' failed to satisfy constraint: Member must satisfy enum value set: [ADD, PUT, DELETE]"
                        )))
                    }
                };
                let value = u
                    .get("Value")
                    .filter(|v| !v.is_null())
                    .map(decode_value)
                    .transpose()?;
                entries.insert(name, AttributeUpdate { action, value });
            }
            return Ok(Some(expr::attribute_updates(&entries)?));
        }
        Ok(None)
    }

    /// KeyConditionExpression, or KeyConditions, for a key schema whose partition key
    /// attributes are `hash` and sort key attributes `range` (one and at most one, except for
    /// a global secondary index with a multi-attribute key).
    pub(crate) fn key_condition(
        &mut self,
        hash: &[&str],
        range: &[&str],
    ) -> Result<KeyCondition, ApiError> {
        let expression = self.expression("KeyConditionExpression")?;
        let legacy = self.legacy("KeyConditions");
        self.check_mix()?;
        if let Some(e) = expression {
            return Ok(self.ctx.parse_key_condition_keys(e, hash, range)?);
        }
        if legacy {
            return Ok(expr::key_conditions_keys(
                &legacy_conditions(self.body, "KeyConditions")?,
                hash,
                range,
            )?);
        }
        Err(ApiError::validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request."))
    }

    /// DynamoDB's refusal of a document path into a key attribute (`pk[0]`, `pk.a`) in any of
    /// the request's expressions: the table's key attributes first (`Key: pk`), then those of
    /// its indexes (`IndexKey: g`). Key attributes are scalars, so such a path could never
    /// match; DynamoDB answers a ValidationException rather than nothing. `table` is the
    /// table's reference; a request without nested paths costs no lookup.
    pub(crate) fn check_key_paths(
        &self,
        api: &crate::api::Api,
        table: &str,
    ) -> Result<(), ApiError> {
        if self.nested.is_empty() {
            return Ok(());
        }
        let found = api
            .store()
            .with_table_meta(table, |meta| {
                let table_key: Vec<&str> = meta
                    .key_schema
                    .attributes()
                    .map(|a| a.name.as_str())
                    .collect();
                if let Some(n) = self.nested.iter().find(|n| table_key.contains(&n.as_str())) {
                    return Some(format!("Key: {n}"));
                }
                let index_keys: Vec<&str> = meta
                    .indexes
                    .iter()
                    .flat_map(|ix| ix.key_schema.attributes())
                    .map(|a| a.name.as_str())
                    .collect();
                self.nested
                    .iter()
                    .find(|n| index_keys.contains(&n.as_str()))
                    .map(|n| format!("IndexKey: {n}"))
            })
            // A table that does not exist is reported by the operation itself.
            .unwrap_or(None);
        match found {
            Some(which) => Err(ApiError::validation(format!(
                "Key attributes must be scalars; list random access '[]' and map lookup '.' are not allowed: {which}"
            ))),
            None => Ok(()),
        }
    }

    /// Checks the request's parameters as a whole: no mixing of expression and legacy
    /// parameters, placeholders only with expressions, and every placeholder used.
    pub(crate) fn finish(self) -> Result<(), ApiError> {
        self.check_mix()?;
        if self.used_expression.is_empty() {
            if self.has_names {
                return Err(ApiError::validation(
                    "ExpressionAttributeNames can only be specified when using expressions",
                ));
            }
            if self.has_values {
                return Err(ApiError::validation(
                    "ExpressionAttributeValues can only be specified when using expressions",
                ));
            }
        }
        Ok(self.ctx.finish()?)
    }
}

/// Decodes a legacy condition map (`Expected`, `QueryFilter`, `ScanFilter`, `KeyConditions`).
fn legacy_conditions(
    body: &Value,
    member: &str,
) -> Result<BTreeMap<String, ExpectedAttribute>, ApiError> {
    let mut out = BTreeMap::new();
    for (name, e) in optional_object(body, member)?.cloned().unwrap_or_default() {
        let comparison_operator = match e.get("ComparisonOperator").and_then(Value::as_str) {
            None => None,
            Some(op) => Some(ComparisonOperator::parse(op).ok_or_else(|| {
                ApiError::validation(format!(
                    "1 validation error detected: Value '{op}' at '{}.{name}.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]",
                    lower_first(member)
                ))
            })?),
        };
        let attribute_value_list = match e.get("AttributeValueList").and_then(Value::as_array) {
            Some(list) => list.iter().map(decode_value).collect::<Result<_, _>>()?,
            None => Vec::new(),
        };
        let exists = e.get("Exists").and_then(Value::as_bool);
        let value = e
            .get("Value")
            .filter(|v| !v.is_null())
            .map(decode_value)
            .transpose()?;
        out.insert(
            name,
            ExpectedAttribute {
                comparison_operator,
                attribute_value_list,
                exists,
                value,
            },
        );
    }
    Ok(out)
}

fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

/// A store-side check that enforces `condition` on the current item.
pub(crate) fn check_condition(
    condition: Option<&Condition>,
    current: Option<&Item>,
) -> Result<(), StoreError> {
    match condition {
        None => Ok(()),
        Some(c) => match c.evaluate(current) {
            Ok(true) => Ok(()),
            Ok(false) => Err(StoreError::ConditionalCheckFailed {
                item: current.cloned().map(Box::new),
            }),
            Err(e) => Err(StoreError::Validation(e.to_string())),
        },
    }
}

/// The ReturnValuesOnConditionCheckFailure member: whether to return the item on failure.
pub(crate) fn return_old_on_failure(body: &Value) -> Result<bool, ApiError> {
    match optional_str(body, "ReturnValuesOnConditionCheckFailure")? {
        None | Some("NONE") => Ok(false),
        Some("ALL_OLD") => Ok(true),
        Some(other) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{other}' at 'returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]"
        ))),
    }
}

/// Maps a store error to the API error, adding the item for ReturnValuesOnConditionCheckFailure.
pub(crate) fn write_error(e: StoreError, return_old: bool) -> ApiError {
    match e {
        StoreError::ConditionalCheckFailed { item: Some(item) } if return_old => {
            ApiError::conditional_check_failed().with_extra("Item", tarn_wire::encode_item(&item))
        }
        other => other.into(),
    }
}
