#!/usr/bin/env bash
# coldstart.sh measures the cold start of `tandem serve --demo` on a fresh embedded store:
# milliseconds from exec until /readyz answers 200, over N runs (default 5), and the binary size.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
go build -o bin/tandem ./cmd/tandem
printf 'binary: %s bytes (%s)\n' "$(stat -c %s bin/tandem)" "$(du -h bin/tandem | cut -f1)"
port=18765
for i in $(seq 1 "$runs"); do
  dir=$(mktemp -d)
  start=$(date +%s%N)
  bin/tandem serve --demo --data-dir "$dir" --addr "127.0.0.1:$port" --log-level warn &
  pid=$!
  until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do sleep 0.005; done
  end=$(date +%s%N)
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$dir"
  echo "run $i: $(( (end - start) / 1000000 )) ms to ready"
done
