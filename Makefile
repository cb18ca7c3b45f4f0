# The two commands a newcomer needs: `make dev` (run the API locally) and
# `make test` (run every test). Both install what is missing first.

STAGE ?= dev
# The pinned Node 24 and CDK CLI from package.json come first on PATH, so the
# CDK CLI and jsii both run on them rather than on the machine's Node.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)
# Keep the CLI from asking questions or phoning home.
export CDK_DISABLE_CLI_TELEMETRY := true
CDK := cdk --no-notices

.PHONY: deps synth test snapshots deploy diff destroy not-local clean

node_modules/.package-lock.json: package.json package-lock.json
	@echo "==> npm ci: installing the pinned Node 24 and CDK CLI (first time: about 30 s)"
	@npm ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: node_modules/.package-lock.json
	@echo "==> go mod download (first time: about a minute)"
	@go mod download

synth: deps
	@echo "==> cdk synth -c stage=$(STAGE): building the Go handlers and the template (first time: about a minute)"
	@$(CDK) synth -c stage=$(STAGE) --quiet
	@echo "==> wrote cdk.out/JwtApi-$(STAGE).template.json"

test: deps
	@echo "==> go vet ./..."
	@go vet ./...
	@echo "==> go test ./... (first time: a few minutes, the CDK packages compile once)"
	@go test ./...

snapshots: deps
	@echo "==> rewriting test/testdata/*.template.json; review the diff before committing"
	@go test ./test -run TestSnapshots -update

not-local:
	@if [ "$(STAGE)" = "local" ]; then \
		echo "error: the local stage runs only on your laptop (make dev); use STAGE=dev or STAGE=prod" >&2; exit 2; fi

deploy: deps not-local
	$(CDK) deploy -c stage=$(STAGE) JwtApi-$(STAGE)

diff: deps not-local
	$(CDK) diff -c stage=$(STAGE) JwtApi-$(STAGE)

destroy: deps not-local
	$(CDK) destroy -c stage=$(STAGE) JwtApi-$(STAGE)

clean:
	rm -rf cdk.out .local
