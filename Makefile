# wsgateway's front door. `make help` lists the targets; every target that the
# README or CI uses works on a fresh machine that has Go and make.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

GO ?= go
# gofmt from the same toolchain as $(GO), so formatting never depends on PATH.
GOFMT = $(shell $(GO) env GOROOT)/bin/gofmt

# VERSION is stamped into the binaries (main.version) and tags the image.
VERSION := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

BIN := $(CURDIR)/bin
# Tools the build installs for itself live here (git-ignored), so nothing
# global is needed. Each version gets its own folder, so bumping a pin
# reinstalls.
TOOLS := $(CURDIR)/.tools
# staticcheck 2026.2.2 is module version v0.8.2; it builds with Go 1.26 and
# resolves through the module proxy the project's machines use (tried 2026-11).
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(TOOLS)/staticcheck-$(STATICCHECK_VERSION)/staticcheck
# kube-score v1.20.0 builds with Go 1.26 and resolves through the module proxy
# (tried 2026-11; about 20 s cold).
KUBE_SCORE_VERSION := v1.20.0
KUBE_SCORE := $(TOOLS)/kube-score-$(KUBE_SCORE_VERSION)/kube-score
# k6 v1.8.1 builds with Go 1.26 and resolves through the module proxy
# (tried 2026-11; about 4 min cold, a 70 MB binary). The load tests
# (loadtest/, go run ./loadtest/run) and the capacity gate's test use it;
# loadtest/harness_test.go pins the same version.
K6_VERSION := v1.8.1
K6 := $(TOOLS)/k6-$(K6_VERSION)/k6
# actionlint v1.7.12 resolves through the module proxy (tried 2026-11; a few
# seconds). It checks .github/workflows/ in `make lint` (with shellcheck on
# the run: scripts when shellcheck is on PATH).
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT := $(TOOLS)/actionlint-$(ACTIONLINT_VERSION)/actionlint

# Fuzz targets as "package:FuzzName" pairs. `go test -fuzz` takes one target
# per run, so every pair is run in turn. Add new fuzz tests here.
FUZZ_TARGETS := ./service/protocol:FuzzDecodeCommand \
	./service/internal/auth:FuzzMatch
# Fuzz time per target for `make fuzz`, and for the short run in `make test`.
FUZZTIME ?= 60s
TEST_FUZZTIME ?= 10s

# `make bench BENCH=Fanout` narrows the benchmarks run.
BENCH ?= .
# Extra flags for `make run`, e.g. RUN_ARGS='--log-level debug'.
RUN_ARGS ?=
# Container engine and image name for `make image`.
CONTAINER_ENGINE ?= docker
IMAGE ?= wsgateway:$(VERSION)

.PHONY: help deps build run test test-js test-java lint kube-score fuzz bench image clean k6 loadtest capacity-smoke

help: ## list the targets
	@echo 'Usage: make TARGET [VAR=value ...]'
	@echo
	@grep -E '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) \
		| awk 'BEGIN { FS = ":.*## " } { printf "  %-14s %s\n", $$1, $$2 }'
	@echo
	@echo 'Variables: VERSION=$(VERSION) FUZZTIME=$(FUZZTIME) TEST_FUZZTIME=$(TEST_FUZZTIME)'
	@echo '           BENCH=$(BENCH) RUN_ARGS=$(RUN_ARGS) IMAGE=$(IMAGE) CONTAINER_ENGINE=$(CONTAINER_ENGINE)'

deps: ## install what tests need beyond Go (redis-server, redis-sentinel, prometheus, haproxy, chromium, gcc for -race) when missing
	@bash scripts/deps.sh

# go_build builds ./service/cmd/$(1) into bin/$(1): static, no local paths,
# stripped, version-stamped. The Dockerfile's build line matches it.
go_build = CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/$(1) ./service/cmd/$(1)

build: ## build bin/wsgateway, bin/wsbench and bin/testenv (static, version-stamped)
	$(call go_build,wsgateway)
	$(call go_build,wsbench)
	$(call go_build,testenv)

# run builds only the gateway, so a broken load tool never blocks it.
run: ## build and run one node in --dev mode: no Redis, no auth, ports 8080/8081/9090
	$(call go_build,wsgateway)
	$(BIN)/wsgateway --dev $(RUN_ARGS)

# k6 comes first: loadtest/gate_test.go runs it (and fails without it).
test: deps k6 jmeter ## race-enabled tests of every package (with the JMeter smoke), the JavaScript and Java clients' tests, then a short run of every fuzz target
	$(GO) test -race -count=1 -timeout 15m ./...
	$(MAKE) --no-print-directory test-js
	$(MAKE) --no-print-directory test-java
	$(call fuzz_each,$(TEST_FUZZTIME))

# The JavaScript client's tests (node --test: unit, integration and
# Chromium) start their gateways through bin/testenv, on bin/wsgateway, the
# binaries built here; npm ci installs the committed lockfile's versions.
test-js: deps ## the JavaScript client's tests (clients/js): unit, against real nodes, and in Chromium
	$(call go_build,wsgateway)
	$(call go_build,testenv)
	cd clients/js && npm ci --no-audit --no-fund && \
		WSG_TESTENV=$(BIN)/testenv WSG_GATEWAY=$(BIN)/wsgateway npm test

# The Java client's tests (JUnit 5 through Surefire, whose summary
# .mvn/jvm.config keeps visible under -q) start their gateways through
# bin/testenv on bin/wsgateway, as test-js does; Maven resolves the pinned
# versions of the pom from Maven Central.
test-java: deps ## the Java client's tests (clients/java): wire vectors, close policy, against real nodes
	$(call go_build,wsgateway)
	$(call go_build,testenv)
	cd clients/java && WSG_TESTENV=$(BIN)/testenv WSG_GATEWAY=$(BIN)/wsgateway mvn -B -q verify

lint: $(STATICCHECK) $(ACTIONLINT) ## gofmt, go vet, staticcheck, the Dockerfile's pins, actionlint on the workflows
	@echo '==> gofmt -l'
	@unformatted=$$(find . -name '*.go' -not -path './.git/*' -not -path './.tools/*' \
		-not -path '*/testdata/*' -exec $(GOFMT) -l {} +); \
	if [ -n "$$unformatted" ]; then \
		echo 'gofmt: these files are not formatted (fix with gofmt -w):' >&2; \
		echo "$$unformatted" >&2; exit 1; \
	fi
	@echo '==> go vet'
	$(GO) vet ./...
	@echo '==> staticcheck $(STATICCHECK_VERSION)'
	$(STATICCHECK) ./...
	@echo '==> Dockerfile'
	@bash scripts/check-dockerfile.sh
	@echo '==> actionlint $(ACTIONLINT_VERSION)'
	$(ACTIONLINT) .github/workflows/*.yml

kube-score: $(KUBE_SCORE) ## kube-score (pinned, installed into .tools/) over every rendered k8s overlay
	KUBE_SCORE=$(KUBE_SCORE) $(GO) test -count=1 -run '^TestKubeScore$$' -v ./k8s

fuzz: ## fuzz every target in FUZZ_TARGETS for FUZZTIME each (default 60s)
	$(call fuzz_each,$(FUZZTIME))

bench: ## run the benchmarks of every service package, with allocations
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem ./service/...

k6: $(K6) ## install the pinned k6 into .tools/ (the load tests and make test use it)

# JMeter 5.6.3 and the WebSocket samplers plugin 1.3.1, pinned in
# loadtest/jmeter/pom.xml, assembled from Maven Central into
# loadtest/jmeter/target/jmeter (tried 2026-12: about 20 s and 100 MB in ~/.m2
# cold, 4 s after). loadtest/jmeter's smoke test runs the plan with it (about
# 40 s: a passing run and its two failing cases).
.PHONY: jmeter
jmeter: ## assemble the pinned JMeter home (loadtest/jmeter/target/jmeter) with Maven
	cd loadtest/jmeter && mvn -B -q package

# The capacity tests: Redis, three nodes and HAProxy on 127.0.0.1, driven by
# the Go command loadtest/run; results in loadtest/results/ (git-ignored).
# SOAK_DURATION (a Go duration, 3m by default) sets make loadtest's soak;
# LOADTEST_FLAGS passes any other flag (go run ./loadtest/run -help).
LOADTEST_RUN = $(GO) run ./loadtest/run -k6 $(K6) -wsbench bin/wsbench

loadtest: deps build k6 ## the full capacity run (~12 min): every k6 scenario, wsbench fan-out points, the JMeter plan at k6's fan-out load, report in loadtest/results/
	$(LOADTEST_RUN) -mode full $(if $(SOAK_DURATION),-soak-duration $(SOAK_DURATION)) $(LOADTEST_FLAGS)

capacity-smoke: deps build k6 ## the CI capacity gate (~2 min): small connect, fan-out and drain storms; fails on a missed objective or a lost message
	$(LOADTEST_RUN) -mode smoke $(LOADTEST_FLAGS)

image: ## build the container image wsgateway:VERSION; fails when no container engine runs
	@if ! $(CONTAINER_ENGINE) info >/dev/null 2>&1; then \
		echo "image: no container engine available here: '$(CONTAINER_ENGINE) info' failed, so $(IMAGE) was NOT built." >&2; \
		echo "image: the Dockerfile is still checked by 'make lint' (scripts/check-dockerfile.sh) and its go build line by 'make build'." >&2; \
		echo "image: start a Docker daemon, or use CONTAINER_ENGINE=podman, and rerun." >&2; \
		exit 1; \
	fi
	$(CONTAINER_ENGINE) build --build-arg VERSION=$(VERSION) -t $(IMAGE) .

clean: ## remove bin/ and the repo-local tools in .tools/
	rm -rf $(BIN) $(TOOLS)

$(STATICCHECK):
	@echo '==> installing staticcheck $(STATICCHECK_VERSION) into $(@D)'
	@GOBIN=$(@D) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) || { \
		echo "lint: could not install staticcheck $(STATICCHECK_VERSION) through the Go module proxy" >&2; exit 1; }

$(K6):
	@echo '==> installing k6 $(K6_VERSION) into $(@D) (about 4 minutes the first time)'
	@GOBIN=$(@D) $(GO) install go.k6.io/k6@$(K6_VERSION) || { \
		echo "k6: could not install k6 $(K6_VERSION) through the Go module proxy" >&2; exit 1; }

$(ACTIONLINT):
	@echo '==> installing actionlint $(ACTIONLINT_VERSION) into $(@D)'
	@GOBIN=$(@D) $(GO) install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION) || { \
		echo "lint: could not install actionlint $(ACTIONLINT_VERSION) through the Go module proxy" >&2; exit 1; }

$(KUBE_SCORE):
	@echo '==> installing kube-score $(KUBE_SCORE_VERSION) into $(@D)'
	@GOBIN=$(@D) $(GO) install github.com/zegl/kube-score/cmd/kube-score@$(KUBE_SCORE_VERSION) || { \
		echo "kube-score: could not install kube-score $(KUBE_SCORE_VERSION) through the Go module proxy" >&2; exit 1; }

# fuzz_each runs every FUZZ_TARGETS pair for $(1). It first checks that the
# fuzz test exists: `go test -fuzz` with a pattern that matches nothing passes
# silently, which would hide a renamed or deleted target.
define fuzz_each
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t##*:}; \
		listed=$$($(GO) test -list "^$${name}\$$" "$$pkg"); \
		if ! grep -qx "$$name" <<<"$$listed"; then \
			echo "fuzz: no fuzz test $$name in $$pkg; update FUZZ_TARGETS in the Makefile" >&2; exit 1; \
		fi; \
		echo "==> fuzz $$name in $$pkg for $(1)"; \
		$(GO) test -run '^$$' -fuzz "^$${name}\$$" -fuzztime $(1) "$$pkg"; \
	done
endef
