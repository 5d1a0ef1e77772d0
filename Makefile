# hookd — see README.md. Everything here runs with the Go toolchain and the PostgreSQL
# server binaries already on the machine; nothing else is installed by hand.
GO        ?= go
BIN       := bin/hookd
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
# The production build leaves the dev tools out (embedded Temporal server and UI, private
# PostgreSQL, hookd bench): `go build -tags nodev`, as the Dockerfile does. Every other
# target builds with them.
PROD_TAGS := nodev
# Packages that link the embedded Temporal server run without the race detector: the
# server is not our code, and instrumenting it multiplies build time and memory.
SERVER_PKGS := ./internal/devtemporal/... ./cmd/hookd/...
RACE_PKGS    = $(shell $(GO) list ./... | grep -v -e /internal/devtemporal -e /cmd/hookd)
STATICCHECK   := honnef.co/go/tools/cmd/staticcheck@v0.8.2
WORKFLOWCHECK := go.temporal.io/sdk/contrib/tools/workflowcheck@v0.6.0

.PHONY: run build build-prod prereqs test test-faults test-short lint bench bench-quick clean

## run: build bin/hookd and start hookd dev (API :8080, Temporal UI :8233, private
## PostgreSQL). The first build compiles the embedded Temporal server: minutes on a small
## machine, each package named as it compiles; later builds take seconds.
run:
	@echo "building $(BIN): the first build compiles the embedded Temporal server and takes several minutes (packages are listed as they compile); later builds take seconds"
	$(GO) build -v -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/hookd
	$(BIN) dev

## build: the hookd binary in bin/
build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/hookd

## build-prod: the production hookd (no dev tools: no hookd dev, no hookd bench) in bin/
build-prod:
	$(GO) build -tags $(PROD_TAGS) -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/hookd

## prereqs: Chromium and docker-compose for the tests (apt-get install when root)
prereqs:
	./.ci/prereqs

## test: the whole suite (unit, workflow, real PostgreSQL and Temporal integration,
## the console in headless Chromium, docker-compose.yml's syntax)
test: prereqs
	HOOKD_SECRET_KEY=unused docker-compose -f docker-compose.yml config -q
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m $(RACE_PKGS)
	$(GO) test -count=1 -timeout 30m $(SERVER_PKGS)
	$(GO) vet -tags $(PROD_TAGS) ./cmd/hookd/
	$(GO) test -count=1 -tags $(PROD_TAGS) ./cmd/hookd/

## test-faults: the fault suite (kill -9, hostile receivers, malformed input,
## cross-organization probes; at most 15 minutes); it rewrites RELIABILITY.md
test-faults: prereqs
	$(GO) test -tags faults -count=1 -timeout 20m -v ./internal/faults/ -args -report=$(CURDIR)/RELIABILITY.md

## lint: gofmt, go vet, staticcheck and workflowcheck
lint:
	@test -z "$$(gofmt -l .)" || (gofmt -l . && echo "gofmt: files above need formatting" && exit 1)
	$(GO) vet ./...
	$(GO) vet -tags faults ./internal/faults/
	$(GO) run $(STATICCHECK) ./...
	$(GO) run $(STATICCHECK) -tags faults ./internal/faults/
	$(GO) run $(WORKFLOWCHECK) ./workflows/...

## bench: the benchmark (BENCHMARKS.md), a few minutes; the table goes to stdout and
## bench/results/<date>.md. Extra flags: make bench BENCH_FLAGS='--env HOOKD_X=y'
bench:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/hookd bench --out bench/results/$$(date +%F).md $(BENCH_FLAGS)

## bench-quick: every scenario with small counts, a smoke test of the harness (~1 min)
bench-quick:
	$(GO) run -ldflags "$(LDFLAGS)" ./cmd/hookd bench --events 300 --duration 5s --backlog 500 --backlog-hold 5s --ceiling 300 $(BENCH_FLAGS)

clean:
	rm -rf bin
