# Herald's developer commands. CI runs the same ones through .ci/run.

GO ?= go
FUZZTIME ?= 10s

.PHONY: run build test test-go e2e-deps lint fuzz bench clean

## run: start the server with the demo at http://127.0.0.1:8080/
run:
	$(GO) run ./cmd/herald --presence --join-leave

## build: build the herald binary into ./bin (static, no cgo)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/herald ./cmd/herald

## test: every test, under the race detector (browser tests need chromium)
test: e2e-deps test-go

# The root package and the WebSocket transport run twice: once with the
# rest on the default send path (io_uring where the kernel allows it) and,
# at the same time, once on the write(2) path (HERALD_IO_URING=off).
test-go:
	@log=$$(mktemp); HERALD_IO_URING=off $(GO) test -race -count=1 . ./transport/websocket/ >$$log 2>&1 & pid=$$!; \
	$(GO) test -race -count=1 ./...; main=$$?; \
	wait $$pid; off=$$?; echo "the write(2) send path, HERALD_IO_URING=off:"; cat $$log; rm -f $$log; \
	[ $$main -eq 0 ] && [ $$off -eq 0 ]
	$(GO) test -count=1 -run TestBaseline ./internal/bench/baseline   # its nbio mode, which -race cannot run

## e2e-deps: the npm packages of the browser tests (playwright-core), of
## the SDK package's build and tests in js/ (esbuild, typescript, ws: the
## build check, tsc and npm pack run in go test ./js/) and of the Node
## backend example (express: go test ./examples/ runs it); installed again
## when package-lock.json is newer than the last install
e2e-deps:
	@if command -v npm >/dev/null 2>&1; then \
		for d in web/e2e js examples/node-backend; do \
			(cd $$d && { [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; }) || exit 1; \
		done; \
	else echo "npm not found: browser and SDK package tests will be skipped"; fi

## lint: gofmt and go vet
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

## fuzz: a short run of every fuzz target (FUZZTIME each)
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$t"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

## bench: the Go benchmarks (codec, fan-out, write queue)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
