#!/usr/bin/env bash
# test.sh runs the whole test suite against real PostgreSQL+pgvector and real Chromium.
# It installs what is missing first (scripts/deps.sh), so it works on a fresh Debian machine.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then
  bash scripts/deps.sh
fi

export TANDEM_TEST_DATABASE_URL=${TANDEM_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
export TANDEM_REQUIRE_POSTGRES=1
export TANDEM_REQUIRE_BROWSER=1
export TANDEM_CHROMIUM=${TANDEM_CHROMIUM:-$(command -v chromium || true)}

# The shared public datasets sit beside the repository; tests that score on them run when present.
if [ -d ../shared/data/stackfaq ]; then
  export TANDEM_STACKFAQ=${TANDEM_STACKFAQ:-$(cd ../shared/data/stackfaq && pwd)}
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt needed: $unformatted"; exit 1; fi
echo "== go vet"
go vet ./...
echo "== go test"
go test -race -count=1 -timeout 30m ./... "$@"
