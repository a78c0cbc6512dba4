//! The errors of the expression language, worded as DynamoDB words them.
//!
//! Every error here reaches the client as a `ValidationException` whose message is the
//! variant's `Display`. Errors found while parsing carry the kind of expression they were
//! found in, so the message starts "Invalid ConditionExpression: ..." or "Invalid
//! UpdateExpression: ..." exactly as DynamoDB's does; errors found while applying an update to
//! an item, and the key-condition and legacy-parameter errors, have DynamoDB's unprefixed text.

use std::fmt;

use crate::value::{NumberError, ValueError};

/// Which request parameter an expression came from; it names the parameter in error messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExprKind {
    /// `ConditionExpression` (PutItem, UpdateItem, DeleteItem, transactions).
    Condition,
    /// `FilterExpression` (Query, Scan).
    Filter,
    /// `UpdateExpression` (UpdateItem).
    Update,
    /// `ProjectionExpression` (GetItem, Query, Scan, BatchGetItem).
    Projection,
    /// `KeyConditionExpression` (Query).
    KeyCondition,
}

impl ExprKind {
    /// The request parameter's name, e.g. `"ConditionExpression"`.
    pub fn parameter(self) -> &'static str {
        match self {
            ExprKind::Condition => "ConditionExpression",
            ExprKind::Filter => "FilterExpression",
            ExprKind::Update => "UpdateExpression",
            ExprKind::Projection => "ProjectionExpression",
            ExprKind::KeyCondition => "KeyConditionExpression",
        }
    }
}

impl fmt::Display for ExprKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.parameter())
    }
}

/// Why an expression is invalid: the part of DynamoDB's message after "Invalid `<Kind>`: ".
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Reason {
    /// The expression is empty or only whitespace.
    #[error("The expression can not be empty;")]
    Empty,
    /// The expression is longer than 4 KB.
    #[error("Expression size has exceeded the maximum allowed size; expression size: {0}")]
    TooLong(usize),
    /// A token where the grammar does not allow one (`<EOF>` at the end).
    #[error("Syntax error; token: \"{token}\", near: \"{near}\"")]
    Syntax {
        /// The offending token.
        token: String,
        /// The text from the previous token through the offending one.
        near: String,
    },
    /// A bare attribute name that is a reserved word.
    #[error("Attribute name is a reserved keyword; reserved keyword: {0}")]
    Reserved(String),
    /// A `#name` missing from ExpressionAttributeNames.
    #[error("An expression attribute name used in the document path is not defined; attribute name: {0}")]
    UndefinedName(String),
    /// A `:value` missing from ExpressionAttributeValues.
    #[error(
        "An expression attribute value used in expression is not defined; attribute value: {0}"
    )]
    UndefinedValue(String),
    /// A function DynamoDB does not have.
    #[error("Invalid function name; function: {0}")]
    UnknownFunction(String),
    /// An update function (`if_not_exists`, `list_append`) in a condition.
    #[error("The function is not allowed in a condition expression; function: {0}")]
    FunctionNotAllowedInCondition(String),
    /// A condition function (`size`, `contains`...) in an update.
    #[error("The function is not allowed in an update expression; function: {0}")]
    FunctionNotAllowedInUpdate(String),
    /// A boolean function used as a value, or `size` used as a condition.
    #[error("The function is not allowed to be used this way in an expression; function: {0}")]
    MisusedFunction(String),
    /// A function called with the wrong number of arguments.
    #[error("Incorrect number of operands for operator or function; operator or function: {function}, number of operands: {count}")]
    OperandCount {
        /// The function.
        function: String,
        /// How many operands it was given.
        count: usize,
    },
    /// A function whose argument must be a document path was given a value.
    #[error("Operator or function requires a document path; operator or function: {0}")]
    RequiresPath(String),
    /// A function or operator given a value of a type it cannot take.
    #[error("Incorrect operand type for operator or function; operator or function: {function}, operand type: {ty}")]
    OperandType {
        /// The function or operator.
        function: String,
        /// The offending type descriptor.
        ty: String,
    },
    /// ADD or DELETE given a value of a type it cannot take.
    #[error(
        "Incorrect operand type for operator or function; operator: {operator}, operand type: {ty}"
    )]
    ActionOperandType {
        /// `ADD` or `DELETE`.
        operator: &'static str,
        /// The offending type, spelled out (`STRING`, `MAP`...).
        ty: &'static str,
    },
    /// `attribute_type` given a string that is not a type descriptor.
    #[error("Invalid attribute type name found; type: {0}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}")]
    InvalidTypeName(String),
    /// `((...))`.
    #[error("The expression has redundant parentheses;")]
    RedundantParentheses,
    /// `a = a`, `begins_with(a, a)`...
    #[error("The first operand must be distinct from the remaining operands for this operator or function; operator: {operator}, first operand: {path}")]
    NotDistinct {
        /// The operator or function.
        operator: String,
        /// The repeated path, as `[a, b, [1]]`.
        path: String,
    },
    /// BETWEEN with bounds of different types.
    #[error("The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {low}, upper bound operand: AttributeValue: {high}")]
    BetweenTypes {
        /// The lower bound, as `{N:1}`.
        low: String,
        /// The upper bound.
        high: String,
    },
    /// BETWEEN with the lower bound above the upper.
    #[error("The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {low}, upper bound operand: AttributeValue: {high}")]
    BetweenOrder {
        /// The lower bound, as `{N:1}`.
        low: String,
        /// The upper bound.
        high: String,
    },
    /// IN with more than 100 candidates.
    #[error("The IN operator is provided with too many operands; number of operands: {0}")]
    TooManyInOperands(usize),
    /// An update expression with two `SET` (or `REMOVE`, `ADD`, `DELETE`) clauses.
    #[error("The \"{0}\" section can only be used once in an update expression;")]
    DuplicateSection(&'static str),
    /// Two paths of an update or projection where one contains the other.
    #[error("Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {one}, path two: {two}")]
    PathOverlap {
        /// The first path, as `[a, b]`.
        one: String,
        /// The second path.
        two: String,
    },
    /// Two paths that use the same element both as a map and as a list.
    #[error("Two document paths conflict with each other; must remove or rewrite one of these paths; path one: {one}, path two: {two}")]
    PathConflict {
        /// The first path, as `[a, [1]]`.
        one: String,
        /// The second path.
        two: String,
    },
    /// A document path more than 32 levels deep.
    #[error("The document path has too many nesting levels; nesting levels: {0}")]
    PathTooDeep(usize),
    /// A key condition of a shape Query cannot serve.
    #[error("Query key condition not supported")]
    KeyConditionNotSupported,
}

/// An expression error. `Display` is DynamoDB's message; all are `ValidationException`s.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExprError {
    /// The expression is malformed or refers to names/values it may not: "Invalid `<Kind>`: ...".
    #[error("Invalid {kind}: {reason}")]
    Invalid {
        /// Which parameter held the expression.
        kind: ExprKind,
        /// What is wrong with it.
        reason: Reason,
    },
    /// ExpressionAttributeNames has entries no expression used (keys listed, comma-separated).
    #[error("Value provided in ExpressionAttributeNames unused in expressions: keys: {{{0}}}")]
    UnusedNames(String),
    /// ExpressionAttributeValues has entries no expression used.
    #[error("Value provided in ExpressionAttributeValues unused in expressions: keys: {{{0}}}")]
    UnusedValues(String),
    /// An update reads a path the item does not have (`SET a = b + :v` without `b`).
    #[error("The provided expression refers to an attribute that does not exist in the item")]
    MissingAttribute,
    /// An update combines values of the wrong types (`+` on a string, ADD to a list...).
    #[error("An operand in the update expression has an incorrect data type")]
    IncorrectOperandType,
    /// ADD or DELETE with a value whose type does not go with the attribute's (a number set
    /// added to a string set, a set deleted from a number...).
    #[error("Type mismatch for {action}; operator type: {operand}, existing type: {existing}")]
    TypeMismatch {
        /// `ADD` or `DELETE`.
        action: &'static str,
        /// The type of the value in the update (`NS`...).
        operand: &'static str,
        /// The type of the attribute in the item (`SS`...).
        existing: &'static str,
    },
    /// An update writes below something that is missing or is not a map/list.
    #[error("The document path provided in the update expression is invalid for update")]
    InvalidDocumentPath,
    /// Arithmetic left DynamoDB's number range or precision.
    #[error(transparent)]
    Number(#[from] NumberError),
    /// The updated item breaks a value rule (nesting depth).
    #[error(transparent)]
    Value(#[from] ValueError),
    /// A key condition lacks the partition key (or names a non-key attribute).
    #[error("Query condition missed key schema element: {0}")]
    MissedKeyElement(String),
    /// A key condition uses an operator Query cannot serve (`OR`, `NOT`, `IN`, `<>`, `contains`...).
    #[error("Invalid operator used in KeyConditionExpression: {0}")]
    KeyConditionOperator(String),
    /// A key condition on a nested attribute.
    #[error("KeyConditionExpressions cannot have conditions on nested attributes")]
    KeyConditionNested,
    /// A key condition with `size()` or another nested operation.
    #[error("KeyConditionExpressions cannot contain nested operations")]
    KeyConditionNestedOperation,
    /// Two conditions on the same key attribute.
    #[error("KeyConditionExpressions must only contain one condition per key")]
    KeyConditionTwice,
    /// A key condition with more than two conditions.
    #[error("Conditions can be of length 1 or 2 only")]
    KeyConditionLength,
    /// A key condition comparing two paths or two values.
    #[error("Invalid condition in KeyConditionExpression: {0}")]
    KeyConditionInvalid(String),
    /// A key condition on a multi-attribute index key that breaks its rules (in DynamoDB's
    /// words): a partition attribute without an equality, a sort attribute without one before
    /// a conditioned one, a condition on an attribute not in the key.
    #[error("{0}")]
    KeyConditionOrder(String),
    /// A legacy parameter (Expected, KeyConditions, AttributeUpdates...) that breaks its rules.
    #[error("One or more parameter values were invalid: {0}")]
    InvalidParameter(String),
}

impl ExprError {
    /// Shorthand for [`ExprError::Invalid`].
    pub fn invalid(kind: ExprKind, reason: Reason) -> Self {
        ExprError::Invalid { kind, reason }
    }
}
