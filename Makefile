# tcp_drop: build, run and test the otelcol-tcpdrop collector.
#   sudo make run    build the collector and run it with otelcol-config.example.yaml
#   sudo make test   every test, including those that load the eBPF program
#   make image       the container image otelcol-tcpdrop:latest, amd64 and arm64 (needs docker); deploy/ runs it
#   make lint        golangci-lint (.golangci.yml) and the go mod tidy check

OCB_VERSION   := v0.165.0
COLLECTOR     := _build/otelcol-tcpdrop
OCB           := _build/bin/builder
CONFIG        ?= otelcol-config.example.yaml

# sudo resets PATH on many systems; find Go where its installer puts it.
export PATH := $(PATH):/usr/local/go/bin:$(HOME)/go/bin
# cilium/ebpf is pure Go: the collector needs no C toolchain.
export CGO_ENABLED := 0

GO_SOURCES := $(shell find bpf internal receiver -name '*.go' -o -name '*.o' 2>/dev/null) go.mod go.sum builder-config.yaml

.PHONY: run build test test-kernels generate check-generated bench clean

# The root check comes first: nobody should wait for a build to learn it.
run:
	@if [ "$$(id -u)" != 0 ]; then \
		echo "make run: loading the eBPF program needs root: run 'sudo make run'"; \
		echo "  or grant the capabilities once and run it as yourself:"; \
		echo "  make build && sudo setcap cap_bpf,cap_perfmon,cap_syslog+ep $(COLLECTOR) && $(COLLECTOR) --config $(CONFIG)"; \
		exit 1; \
	fi
	@$(MAKE) --no-print-directory build
	@echo "otelcol-tcpdrop: a line per drop, the counts every 10s; Ctrl-C stops. Make drops from another terminal: curl -s localhost:9"
	$(COLLECTOR) --config $(CONFIG)

build: $(COLLECTOR)

$(COLLECTOR): $(OCB) $(GO_SOURCES)
	$(OCB) --config builder-config.yaml

# The collector for linux/amd64 and linux/arm64, cross-compiled (CGO off,
# the flags ocb uses) from the sources ocb generated in _build: the one
# committed kernel object is little-endian and CO-RE, the same on both.
#   make build-arm64     _build/linux-arm64/otelcol-tcpdrop
ARCHS := amd64 arm64
.PHONY: $(addprefix build-,$(ARCHS))

$(addprefix build-,$(ARCHS)): build-%: $(COLLECTOR)
	cd _build && GOOS=linux GOARCH=$* go build -trimpath -ldflags='-s -w' -o linux-$*/otelcol-tcpdrop .

$(OCB):
	GOBIN=$(CURDIR)/_build/bin go install go.opentelemetry.io/collector/cmd/builder@$(OCB_VERSION)

# -p 1: kfree_skb is machine-wide, so packages that make drops run one at
# a time and count only their own.
# harness/testenv.sh installs and starts what the tests need and it can
# (as root: nftables, bpftrace, docker and dockerd; kubeconform), and says
# what it cannot; the real backends are installed as `make backends` does,
# so the tests of deploy/ that use them run too: the same suite as CI.
# harness/testreport prints what plain go test would, then every skipped
# test with its reason.
test: backends
	@harness/testenv.sh
	@bash -o pipefail -c '$(BACKEND_ENV) go test -p 1 -count=1 -json ./... | go run ./harness/testreport'

# Every package's tests on other kernels and architectures: each kernel of
# harness/kernels/kernels.list (Debian packages, amd64 and arm64, fetched
# with apt on first use and cached in _build/kernels, or
# $$TCPDROP_KERNEL_CACHE) is booted in qemu (qemu-system-x86_64, or
# qemu-system-aarch64's virt machine) and runs the test binaries, built for
# its architecture, as root inside; a table kernel x package is printed and
# written to _build/kernels/results.md. No root needed on the host (software
# emulation); needs qemu-system-x86, qemu-system-arm and xz-utils, and the
# network on the first run. About 2 minutes an amd64 kernel, 5 an arm64 one.
#   make test-kernels KERNELS=5.10,6.18     some of the kernels only
#   make test-kernels GUEST_ARCH=arm64      the arm64 kernels only
#   VM_LOCK=/tmp/vm.lock                    an flock held while a guest runs
#   make test-kernels SKIP='TestChurn.*'   not some tests (a -test.skip pattern)
KERNELS    ?=
GUEST_ARCH ?=
VM_LOCK    ?=
SKIP       ?=
test-kernels:
	go run ./harness/kernels -kernels '$(KERNELS)' -arch '$(GUEST_ARCH)' -lock '$(VM_LOCK)' -skip '$(SKIP)'

# docs/reasons/names.tsv: the drop and reset reason names of every kernel of
# harness/kernels/kernels.list (fetched as for test-kernels) and of this
# machine's, read from their BTF; docs/reasons.md must have an entry for
# each (go test ./harness/reasons checks). Needs zstd, lz4, xz and gzip.
.PHONY: reasons
reasons:
	go run ./harness/reasons

# Regenerates the committed code: the kernel program's object and Go
# bindings (bpf2go, clang-19) and the receiver's metadata (mdatagen).
generate:
	go generate ./...

# CI: the committed generated code must be what its sources produce.
check-generated: generate
	@git diff --exit-code --stat -- internal receiver || \
		(echo "generated code is out of date: run 'make generate' and commit"; exit 1)
	@untracked=$$(git ls-files --others --exclude-standard -- internal receiver); \
	if [ -n "$$untracked" ]; then echo "generate made untracked files: $$untracked"; exit 1; fi

# The kernel programs' C in the kernel's style (bpf/.clang-format, clang-format-19:
# apt-get install clang-format-19); bpf/include holds copied system headers, left as they are.
CLANG_FORMAT := clang-format-19
BPF_SOURCES   = $(sort $(shell find bpf -path bpf/include -prune -o \( -name '*.c' -o -name '*.h' \) -print))
.PHONY: format-bpf check-format-bpf

format-bpf:
	$(CLANG_FORMAT) -i --style=file:bpf/.clang-format $(BPF_SOURCES)

check-format-bpf:
	@$(CLANG_FORMAT) --dry-run -Werror --style=file:bpf/.clang-format $(BPF_SOURCES) || \
		(echo "bpf/ is not formatted: run 'make format-bpf'"; exit 1)

clean:
	rm -rf _build

# The linters of .golangci.yml (golangci-lint, pinned here), and go.mod and
# go.sum as `go mod tidy` leaves them. `make lint-tools` installs the
# pinned golangci-lint into $$(go env GOPATH)/bin.
GOLANGCI_LINT_VERSION := v2.15.0
.PHONY: lint lint-tools

lint:
	@golangci-lint version 2>/dev/null | grep -q 'version $(GOLANGCI_LINT_VERSION:v%=%) ' || \
		{ echo "make lint: needs golangci-lint $(GOLANGCI_LINT_VERSION): run 'make lint-tools'"; exit 1; }
	golangci-lint run ./...
	@go mod tidy -diff || { echo "go.mod or go.sum is not tidy: run 'go mod tidy' and commit"; exit 1; }
	@$(MAKE) --no-print-directory check-format-bpf

lint-tools:
	go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
	@command -v $(CLANG_FORMAT) >/dev/null || echo "make lint also needs $(CLANG_FORMAT): apt-get install clang-format-19"

# The cost of watching drops under a SYN flood, in one run (as root): the
# flood alone, with the TCP-check floor, with the collector (count-only, its
# defaults, a record per drop) and with bpftrace, in alternating rounds; `compare` runs the seed's four modes
# (testdata/modes) instead. Tables print here and go to benchmark_results/.
#   sudo make bench BENCH_ARGS='-rate 100000 -duration 30s -rounds 1'
BENCH_ARGS ?=
.PHONY: compare

bench:
	@if [ "$$(id -u)" != 0 ]; then \
		echo "make bench: the bench loads eBPF programs and creates network namespaces: run 'sudo make bench'"; \
		exit 1; \
	fi
	@$(MAKE) --no-print-directory build
	go run ./cmd/tcpdrop-bench -collector $(COLLECTOR) $(BENCH_ARGS)

compare:
	@if [ "$$(id -u)" != 0 ]; then \
		echo "make compare: the comparison loads eBPF programs and creates network namespaces: run 'sudo make compare'"; \
		exit 1; \
	fi
	@$(MAKE) --no-print-directory build
	go run ./cmd/tcpdrop-bench -compare -collector $(COLLECTOR) $(BENCH_ARGS)

# The container image otelcol-tcpdrop:latest for linux/amd64 and
# linux/arm64 under one tag (an image index): the static collector and the
# example config, nothing else (FROM scratch). harness/image writes it as an
# OCI archive, _build/image/otelcol-tcpdrop.tar, with docker's manifest.json
# for the docker daemon's architecture, and docker loads it (a docker with
# the classic image store keeps one architecture per tag). To push both:
#   skopeo copy --all oci-archive:_build/image/otelcol-tcpdrop.tar docker://REGISTRY/otelcol-tcpdrop:TAG
IMAGE         ?= otelcol-tcpdrop:latest
IMAGE_ARCHIVE := _build/image/otelcol-tcpdrop.tar
.PHONY: image image-archive

image: image-archive
	docker load -i $(IMAGE_ARCHIVE)

image-archive: $(addprefix build-,$(ARCHS))
	go run ./harness/image -tag $(IMAGE) -config otelcol-config.example.yaml -out $(IMAGE_ARCHIVE) \
		-docker-arch "$$(docker version -f '{{.Server.Arch}}' 2>/dev/null)" \
		$(foreach a,$(ARCHS),$(a)=_build/linux-$(a)/otelcol-tcpdrop)

# Real backends: `make backends` installs the pinned Prometheus, promtool
# and VictoriaLogs (go install, about 10 minutes cold on 2 cores; cached in
# _build/backends, or $$TCPDROP_BACKEND_CACHE outside the clone, so later
# runs install nothing); `make test-rules` checks the alert rules of
# deploy/prometheus with `promtool test rules`.
PROMETHEUS_VERSION   := v0.316.0
VICTORIALOGS_VERSION := v1.52.2
BACKEND_CACHE        ?= $(if $(TCPDROP_BACKEND_CACHE),$(TCPDROP_BACKEND_CACHE),$(CURDIR)/_build/backends)
PROMETHEUS           := $(BACKEND_CACHE)/prometheus-$(PROMETHEUS_VERSION)/prometheus
PROMTOOL             := $(BACKEND_CACHE)/prometheus-$(PROMETHEUS_VERSION)/promtool
VICTORIALOGS         := $(BACKEND_CACHE)/victorialogs-$(VICTORIALOGS_VERSION)/victoria-logs
.PHONY: backends test-rules test-backends

backends: $(PROMETHEUS) $(PROMTOOL) $(VICTORIALOGS)

$(PROMETHEUS):
	GOBIN=$(dir $@) go install github.com/prometheus/prometheus/cmd/prometheus@$(PROMETHEUS_VERSION)

$(PROMTOOL):
	GOBIN=$(dir $@) go install github.com/prometheus/prometheus/cmd/promtool@$(PROMETHEUS_VERSION)

$(VICTORIALOGS):
	GOBIN=$(dir $@) go install github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$(VICTORIALOGS_VERSION)

test-rules: $(PROMTOOL)
	$(PROMTOOL) check rules deploy/prometheus/tcp_drop.rules.yaml
	$(PROMTOOL) test rules deploy/prometheus/tcp_drop.rules_test.yaml


# A churn soak (as root): the collector (example config, logs to the nop
# exporter, metrics to a sink of the soak's) runs for SOAK_DURATION while
# network namespaces, servers and short-lived client processes come and go,
# all making drops (harness/soak); its RSS, Go heap and series are sampled
# every 20 s and printed as a table, with whether the curve is flat.
#   sudo make soak SOAK_DURATION=2m SOAK_ARGS='-clients 40'
SOAK_DURATION ?= 10m
SOAK_ARGS     ?=
.PHONY: soak

soak:
	@if [ "$$(id -u)" != 0 ]; then \
		echo "make soak: the collector loads its eBPF program and the churn makes network namespaces: run 'sudo make soak'"; \
		exit 1; \
	fi
	@$(MAKE) --no-print-directory build
	SOAK_DURATION=$(SOAK_DURATION) go run ./harness/soak -collector $(COLLECTOR) $(SOAK_ARGS)

# The drops in real backends (as root: it makes drops): the collector
# exports to the pinned Prometheus (deploy/prometheus/prometheus.yml, its
# rules) and VictoriaLogs, started by harness/backends on free loopback
# ports; the tests named TestBackends* in deploy/... check through PromQL and
# LogsQL that they hold exactly the drops the kernel counted. `make test`
# skips these tests: they need the binaries named below.
BACKEND_ENV   := TCPDROP_PROMETHEUS=$(PROMETHEUS) TCPDROP_VICTORIALOGS=$(VICTORIALOGS)
BACKEND_TESTS ?= ^TestBackends

test-backends: backends
	$(BACKEND_ENV) go test -count=1 ./harness/backends
	$(BACKEND_ENV) go test -p 1 -count=1 -run '$(BACKEND_TESTS)' ./deploy/...

# README's picture of the dashboard on real data (as root: it makes
# drops): the collector exports to the pinned VictoriaMetrics (installed
# like `make backends`, cached in the same place), whose vmui draws the
# dashboard harness/grafana makes from deploy/grafana/tcp_drop.json; drops
# of a few kinds for DASHBOARD_ARGS' -duration (default 4m); headless
# Chromium (apt-get install chromium) takes docs/img/dashboard.png.
VICTORIAMETRICS_VERSION := v1.151.0
VICTORIAMETRICS         := $(BACKEND_CACHE)/victoriametrics-$(VICTORIAMETRICS_VERSION)/victoria-metrics
DASHBOARD_ARGS          ?=
.PHONY: victoriametrics dashboard-picture

victoriametrics: $(VICTORIAMETRICS)

$(VICTORIAMETRICS):
	GOBIN=$(dir $@) go install github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics@$(VICTORIAMETRICS_VERSION)

dashboard-picture:
	@if [ "$$(id -u)" != 0 ]; then \
		echo "make dashboard-picture: the collector loads eBPF programs and the drops need network namespaces: run 'sudo make dashboard-picture'"; \
		exit 1; \
	fi
	@command -v chromium >/dev/null || { echo "make dashboard-picture: needs chromium (apt-get install chromium)"; exit 1; }
	@$(MAKE) --no-print-directory build victoriametrics
	mkdir -p docs/img
	TCPDROP_VICTORIAMETRICS=$(VICTORIAMETRICS) go run ./harness/dashpicture -collector $(COLLECTOR) -out docs/img/dashboard.png $(DASHBOARD_ARGS)

# The collector engine's own cost on a busy host (as root): N network
# namespaces x 5 listeners and S TCP sockets held by 50 processes, idle and
# under 1000 drops/s to an owned socket (cmd/tcpdrop-hostload). The full
# matrix (20,200,1000 x 0,20000,100000) takes about 5 minutes per engine.
#   sudo make hostload HOSTLOAD_ARGS='-namespaces 200 -sockets 20000'
HOSTLOAD_ARGS ?=
.PHONY: hostload

hostload:
	@if [ "$$(id -u)" != 0 ]; then \
		echo "make hostload: the benchmark loads eBPF programs and creates network namespaces: run 'sudo make hostload'"; \
		exit 1; \
	fi
	go run ./cmd/tcpdrop-hostload $(HOSTLOAD_ARGS)
