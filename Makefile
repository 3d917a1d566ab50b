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

# Go micro-benchmarks, then podplug against podman side by side and the
# scale scenario, podplug alone up to 500 pods (root; the defaults took 12
# minutes on a 2-CPU VM, about 4 of them in the scale scenario). Shorter:
#   make bench BENCH_RUNS=3 BENCH_SCENARIOS=create,start5,stop5
BENCH_RUNS ?= 5
BENCH_SCENARIOS ?= all
BENCH_GO_OUT ?= bench/go-bench.txt

bench: deps build
	scripts/install-bench-deps.sh
	$(GO) test -run '^$$' -bench . -benchmem ./... > $(BENCH_GO_OUT) 2>&1 || { cat $(BENCH_GO_OUT); exit 1; }
	$(GO) run ./bench/compare -out BENCHMARKS.md -runs $(BENCH_RUNS) -scenarios $(BENCH_SCENARIOS) \
		-go-bench $(BENCH_GO_OUT)

clean:
	rm -rf $(BIN)
