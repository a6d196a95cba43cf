GO      ?= go
BIN     := bin/outpost
PKGS    := ./...
# Benchmark source length in seconds and runs per measurement; runs of the
# 2-minute case (minutes each); length of the x264 quality masters.
BENCH_SECONDS         ?= 30
BENCH_RUNS            ?= 3
BENCH_LONG_RUNS       ?= 1
BENCH_QUALITY_SECONDS ?= 5
# The many-workers bench: source length and interleaved runs of each W.
BENCH_WORKERS_SECONDS ?= 120
BENCH_WORKERS_RUNS    ?= 1

.PHONY: help build run test test-short deps deps-run bench bench-segments bench-quality bench-workers gpu-check lint fmt fuzz

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

build: ## build bin/outpost
	$(GO) build -o $(BIN) ./cmd/outpost

run: deps-run build ## install ffmpeg and caption fonts when missing, then start Outpost on http://127.0.0.1:8080 with the platform emulators (data in ./data)
	./$(BIN) serve --sandbox

deps-run: ## install what the service needs to run (ffmpeg/ffprobe, caption fonts) when missing
	./scripts/install-deps.sh --runtime

deps: ## install test dependencies (ffmpeg, PostgreSQL, Chromium, fonts, versitygw) when missing
	./scripts/install-deps.sh

test: deps ## install what is missing, then vet and run every test with -race
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

test-short: ## run the tests without installing anything
	$(GO) test -count=1 $(PKGS)

fuzz: ## run each fuzz target for a while (FUZZTIME, default 30s)
	./scripts/fuzz.sh $${FUZZTIME:-30s}

bench: deps build ## render benchmarks (three and six social targets vs ffmpeg by hand and vs before shared encodes, passthrough, the 2-minute export, ETA error, segments), then the API load benchmark on SQLite and PostgreSQL
	$(GO) run ./cmd/outpost-bench -outpost $(BIN) -seconds $(BENCH_SECONDS) -runs $(BENCH_RUNS) -long-runs $(BENCH_LONG_RUNS)
	$(GO) run ./cmd/outpost-loadbench -outpost $(BIN)
	$(GO) run ./cmd/outpost-loadbench -outpost $(BIN) -postgres -latency=false

bench-segments: deps build ## the 2-minute export in one pass on one core vs two segments on two single-core workers, and the simulation of 4, 8, 16 workers
	$(GO) run ./cmd/outpost-bench -outpost $(BIN) -cases segments -long-runs $(BENCH_LONG_RUNS)

gpu-check: ## on a machine with an NVIDIA GPU: an NVENC export checked, and the bench with NVENC vs x264
	./scripts/gpu-check.sh

bench-workers: deps build ## one export over W=1 and W=2 `outpost worker` processes pinned to a core each (taskset), PostgreSQL + versitygw: median wall and speedup (segmented rendering on many workers)
	$(GO) run ./cmd/outpost-workerbench -outpost $(BIN) -seconds $(BENCH_WORKERS_SECONDS) -runs $(BENCH_WORKERS_RUNS)

bench-quality: deps ## time, SSIM and PSNR of x264's presets at each quality level (the README table)
	$(GO) run ./cmd/outpost-bench -quality -quality-seconds $(BENCH_QUALITY_SECONDS)

lint: ## vet, gofmt and golangci-lint (when installed)
	$(GO) vet $(PKGS)
	@test -z "$$(gofmt -l .)" || (gofmt -l .; echo "gofmt: files above need formatting"; exit 1)
	@if command -v golangci-lint >/dev/null; then golangci-lint run; else echo "golangci-lint not installed; skipped"; fi

fmt: ## format the code
	gofmt -w .
