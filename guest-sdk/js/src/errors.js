// Errors a table call throws, one class per DynamoDB exception, named as DynamoDB names them.
//
// Every one is a `TableError` with `name` (DynamoDB's exception name, as the AWS SDK for
// JavaScript v3 sets it), `message` and `httpStatus` (what an HTTP handler answers when the
// error escapes it: 409 for a failed condition, 404, 400, 403, 429, else 500).

/** A failed table operation. */
export class TableError extends Error {
  /**
   * @param {string} message what went wrong, for people
   * @param {string} [name] DynamoDB's exception name (defaults to the class's)
   */
  constructor(message, name) {
    super(message);
    this.name = name ?? new.target.code ?? 'InternalServerError';
  }

  /** DynamoDB's exception name (`ConditionalCheckFailedException`). */
  get code() {
    return this.name;
  }

  /** The HTTP status an API answers with when this error escapes its handler. */
  get httpStatus() {
    return this.constructor.httpStatus ?? 500;
  }
}

/** @param {string} code @param {number} httpStatus @param {string} doc */
function kind(code, httpStatus, doc) {
  const cls = { [code]: class extends TableError {} }[code];
  cls.code = code;
  cls.httpStatus = httpStatus;
  cls.doc = doc;
  return cls;
}

export const ConditionalCheckFailedException = kind('ConditionalCheckFailedException', 409, 'A condition expression evaluated to false.');
export const ResourceNotFoundException = kind('ResourceNotFoundException', 404, 'The table (or index) does not exist.');
export const ValidationException = kind('ValidationException', 400, 'The request is invalid: a bad expression, a wrong key, an item too large...');
export const AccessDeniedException = kind('AccessDeniedException', 403, "The function's manifest does not grant this table (or grants it read-only).");
export const TransactionCanceledException = kind('TransactionCanceledException', 409, 'A transaction was canceled; the message lists the reasons.');
export const TransactionConflictException = kind('TransactionConflictException', 409, 'Another transaction is in progress on one of the items.');
export const ProvisionedThroughputExceededException = kind('ProvisionedThroughputExceededException', 429, 'Throughput exceeded; retry with backoff.');
export const ThrottlingException = kind('ThrottlingException', 429, 'Too many requests; retry with backoff.');
export const RequestLimitExceeded = kind('RequestLimitExceeded', 429, "The account's request limit was exceeded.");
export const ItemCollectionSizeLimitExceededException = kind('ItemCollectionSizeLimitExceededException', 400, 'An item collection grew past its size limit.');
export const InternalServerError = kind('InternalServerError', 500, 'The host failed internally.');

/** A paging token handed back by a client is not one this SDK made (a ValidationException). */
export class InvalidTokenError extends ValidationException {
  constructor(message = 'invalid paging token') {
    super(message, 'ValidationException');
  }
}

const BY_NAME = new Map(
  [
    ConditionalCheckFailedException, ResourceNotFoundException, ValidationException,
    AccessDeniedException, TransactionCanceledException, TransactionConflictException,
    ProvisionedThroughputExceededException, ThrottlingException, RequestLimitExceeded,
    ItemCollectionSizeLimitExceededException, InternalServerError,
  ].map((cls) => [cls.code, cls]),
);

/**
 * The error for DynamoDB exception name `kind` (with or without its `Exception` suffix or a
 * `com.amazonaws.dynamodb.v20120810#` prefix); unknown names give a `TableError` of that name.
 * @param {string} kind
 * @param {string} message
 * @returns {TableError}
 */
export function errorFor(kind, message) {
  const name = kind.split('#').pop();
  const cls = BY_NAME.get(name) ?? BY_NAME.get(`${name}Exception`) ?? (name === 'InternalFailure' ? InternalServerError : undefined);
  return cls ? new cls(message) : new TableError(message, name);
}
