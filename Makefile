# The README's two commands: `go run ./cmd/tandem serve --demo` and `make test`.
.PHONY: test deps build bench

test:
	bash scripts/test.sh

deps:
	bash scripts/deps.sh

build:
	go build -o bin/tandem ./cmd/tandem
