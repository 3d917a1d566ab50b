# podplug's build. `make demo` and `make test` install what they need
# (runc, conmon, busybox-static) when run as root on Debian.

GO ?= go
BIN := bin

.PHONY: all build deps demo test unit e2e vet bench clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -o $(BIN)/podplug ./cmd/podplug
	CGO_ENABLED=0 $(GO) build -ldflags="-s -w" -o $(BIN)/podplug-pause ./cmd/podplug-pause

deps:
	scripts/install-deps.sh

demo: deps build
	scripts/demo.sh

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

# Unit tests, then the end-to-end tests with real containers (root).
test: deps vet
	$(GO) test -count=1 -timeout 30m ./...

unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /test)

e2e: deps
	$(GO) test -count=1 -timeout 30m -v ./test/

bench: deps build
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf $(BIN)
