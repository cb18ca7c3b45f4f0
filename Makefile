# The two commands a newcomer needs: `make dev` (run the API locally) and
# `make test` (run every test). Both install what is missing first.

STAGE ?= dev
# The pinned Node 24 and CDK CLI from package.json come first on PATH, so the
# CDK CLI and jsii both run on them rather than on the machine's Node.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
# Keep the CLI from asking questions or phoning home.
export CDK_DISABLE_CLI_TELEMETRY := true
CDK := cdk --no-notices

# make dev serves the local stage unless STAGE is given on the command line.
DEV_STAGE := $(if $(filter command line environment,$(origin STAGE)),$(STAGE),local)
ADDR ?= 127.0.0.1:3000
ISSUER_ADDR ?= 127.0.0.1:4000
# The local stage's issuer follows ISSUER_ADDR.
DEV_SYNTH_FLAGS := $(if $(filter local,$(DEV_STAGE)),-c issuer=http://$(ISSUER_ADDR)/ -c machinesIssuer=http://$(ISSUER_ADDR)/local_machines)

.PHONY: deps synth dev test bench load startup synth-time mutate snapshots deploy diff destroy smoke not-local clean

node_modules/.package-lock.json: package.json package-lock.json
	@echo "==> npm ci: installing the pinned Node 24 and CDK CLI (first time: about 30 s)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

.local/go-mod-download.stamp: go.mod go.sum
	@echo "==> go mod download (first time: about a minute)"
	@go mod download
	@mkdir -p .local && touch $@

deps: node_modules/.package-lock.json .local/go-mod-download.stamp

synth: deps
	@echo "==> cdk synth -c stage=$(STAGE): building the Go handlers and the template (first time: about a minute)"
	@$(CDK) synth -c stage=$(STAGE) --quiet
	@echo "==> wrote the templates in cdk.out/ (JwtApi-$(STAGE), and JwtRestApi-$(STAGE) for deployable stages)"

dev: deps
	@echo "==> go build ./cmd/jwtapi, then jwtapi dev --stage $(DEV_STAGE): it synthesizes the app only when it changed (first time: about two minutes)"
	@go build -o .local/bin/jwtapi ./cmd/jwtapi
	@exec .local/bin/jwtapi dev --stage $(DEV_STAGE) --addr $(ADDR) --issuer-addr $(ISSUER_ADDR) $(DEV_SYNTH_FLAGS)

test: deps
	@echo "==> go mod tidy -diff (go.mod and go.sum must be tidy)"
	@go mod tidy -diff || { echo "error: go.mod or go.sum is not tidy: run go mod tidy and commit the result" >&2; exit 1; }
	@echo "==> go vet ./..."
	@go vet ./...
	@echo "==> go test ./... (first time: a few minutes, the CDK packages compile once)"
	@go test ./...
	@echo "==> go test -race on the concurrent code (local gateway, runtime, issuer, authorizer)"
	@go test -race ./local/... ./functions/authz ./internal/...

bench: deps
	@echo "==> go test -bench: the verifier, local authorizer decisions, Runtime API invocations, the full private route, the Lambda authorizer cold start"
	@go test ./jwtverify ./local/... ./functions/authorizer -run '^$$' -bench . -benchtime 3s

load: deps
	@echo "==> go build ./cmd/jwtapi, then wrk against jwtapi dev and serverless offline side by side at 1, 4, 32 and 100 connections (about 5 minutes; the local stage is synthesized only if the app changed)"
	@go build -o .local/bin/jwtapi ./cmd/jwtapi
	@ISSUER_ADDR=$(ISSUER_ADDR) scripts/load.sh

startup: deps
	@scripts/startup.sh

# The app's share of a warm cdk synth against BASE (default: before the redesign).
synth-time: deps
	@scripts/synth-time.sh

# Mutation testing of the security-critical packages (about two hours on
# 2 cores; make mutate REUSE=1 re-tests only what changed since the last run).
MUTATE_PACKAGES = ./jwtverify ./authzspec ./functions/authz ./functions/claims ./local/jwtauth ./internal/issuerurl ./local/gateway ./constructs/jwtapi
mutate: deps
	@echo "==> mutation testing: $(MUTATE_PACKAGES)"
	@go run ./internal/tools/mutate $(if $(REUSE),-reuse) $(MUTATE_PACKAGES)

snapshots: deps
	@echo "==> rewriting test/testdata/*.template.json; review the diff before committing"
	@go test ./test -run TestSnapshots -update

not-local:
	@if [ "$(STAGE)" = "local" ]; then \
		echo "error: the local stage runs only on your laptop (make dev); use STAGE=dev or STAGE=prod" >&2; exit 2; fi

# A deployable stage has two stacks: the HTTP API and the REST API example.
STACKS = JwtApi-$(STAGE) JwtRestApi-$(STAGE)
# Unattended (CI=true, or APPROVE=never): no question about security changes.
# An APPROVE set but empty (as some CI systems export it) falls back to CI.
APPROVAL = $(or $(APPROVE),$(if $(filter true 1,$(CI)),never))
APPROVAL_FLAGS = $(if $(filter never,$(APPROVAL)),--require-approval never)

deploy: deps not-local
	$(CDK) deploy -c stage=$(STAGE) $(APPROVAL_FLAGS) --outputs-file cdk.out/outputs-$(STAGE).json $(STACKS)

diff: deps not-local
	$(CDK) diff -c stage=$(STAGE) $(STACKS)

# make destroy STAGE=dev FORCE=1 runs without a terminal.
destroy: deps not-local
	$(CDK) destroy -c stage=$(STAGE) $(if $(FORCE),--force) $(STACKS)

# make smoke STAGE=dev checks a deployed stage (the URLs from the outputs file
# make deploy wrote); STAGE=local checks the APIs `make dev` serves.
smoke: deps
	@go run ./cmd/jwtapi smoke --stage $(STAGE) $(if $(filter local,$(STAGE)),--local,--outputs cdk.out/outputs-$(STAGE).json)

clean:
	rm -rf cdk.out .local
