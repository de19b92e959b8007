# ingressguard developer targets. `make help` lists them.
SHELL := /usr/bin/env bash
GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# Test timeout covers the first envtest run on a busy 2-core machine.
TEST_FLAGS ?= -count=1 -timeout=30m
# How long make test runs each fuzz test beyond its seeds; make fuzz runs
# each for FUZZTIME. A crasher fails the run and is kept by go test under
# the package's testdata/fuzz, where it becomes a seed once committed.
TEST_FUZZTIME ?= 10s
FUZZTIME ?= 60s

.PHONY: help build test test-istio lint bench load envtest dev fuzz clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build bin/ingressguard
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/ingressguard ./cmd/ingressguard

# Not `go run ./hack/dev`: go run exits 1 when interrupted, even after a clean stop.
dev: ## run ingressguard locally against a real kube-apiserver (Ctrl-C stops it)
	$(GO) build -o bin/dev ./hack/dev && bin/dev

envtest: ## build (once) the kube-apiserver, etcd and kubectl the tests use; prints their folder
	@hack/envtest-assets.sh

# test/istio is a module of its own (istio.io/istio stays out of the
# product's go.mod), so ./... does not reach it: test-istio runs it, after
# the main module's tests, so that a failing Istio oracle does not hide them.
test: lint ## lint, then every test, including the ones against a real kube-apiserver, then test-istio, then each fuzz test for FUZZTIME
	KUBEBUILDER_ASSETS="$$(hack/envtest-assets.sh)" $(GO) test $(TEST_FLAGS) ./...
	@$(MAKE) --no-print-directory test-istio
	@$(MAKE) --no-print-directory fuzz FUZZTIME=$(TEST_FUZZTIME)

test-istio: ## Istio as the oracle: istiod's validation and routing on what convert generates (test/istio)
	cd test/istio && $(GO) test $(TEST_FLAGS) ./...

# staticcheck is pinned in hack/tools/go.mod (a tool directive), so the
# product's go.mod does not grow; go builds it from the module proxy on first use.
STATICCHECK := $(GO) tool -modfile=hack/tools/go.mod staticcheck

lint: ## go mod tidy -diff (empty), gofmt, go vet and staticcheck, also of test/istio
	@$(GO) mod tidy -diff || { echo "go.mod or go.sum is not tidy: run go mod tidy"; exit 1; }
	@(cd hack/tools && $(GO) mod tidy -diff) || { echo "hack/tools/go.mod or go.sum is not tidy: run go mod tidy there"; exit 1; }
	@(cd test/istio && $(GO) mod tidy -diff) || { echo "test/istio/go.mod or go.sum is not tidy: run go mod tidy there"; exit 1; }
	@out="$$(gofmt -l $$(git ls-files '*.go'))"; if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	cd test/istio && $(GO) vet ./... && $(GO) tool -modfile=../../hack/tools/go.mod staticcheck ./...

bench: ## Go benchmarks of the hot paths
	$(GO) test -run '^$$' -bench . -benchmem -count=6 ./convert/... ./webhook/... ./lookup/...

load: ## the load program (9 to 18 minutes): admission, convergence and memory against a real kube-apiserver
	$(GO) run ./test/load

fuzz: ## run each fuzz test for FUZZTIME (60s; make test runs them for 10s)
	$(GO) test -run '^$$' -fuzz FuzzRouting -fuzztime $(FUZZTIME) ./convert
	$(GO) test -run '^$$' -fuzz FuzzRead -fuzztime $(FUZZTIME) ./manifest
	$(GO) test -run '^$$' -fuzz FuzzDecodeIngress -fuzztime $(FUZZTIME) ./webhook
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeReview$$' -fuzztime $(FUZZTIME) ./webhook
	$(GO) test -run '^$$' -fuzz FuzzDecodeReviewAndIngress -fuzztime $(FUZZTIME) ./webhook
	$(GO) test -run '^$$' -fuzz '^FuzzObject$$' -fuzztime $(FUZZTIME) ./webhook

clean: ## remove build output
	rm -rf bin
