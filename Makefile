# The two commands a newcomer needs: `make run` (the whole stack) and `make test` (every test).
GO ?= go
# Never let the go command fetch a newer toolchain: the project pins the installed Go.
export GOTOOLCHAIN := local

.PHONY: bench-console run run-worker test build vet lint unit e2e bench record-histories clean test-deploy helm-template cluster-test bench-load vendor-assets

# The dev stack's data folder, and whether it runs a worker in its own process.
DEV_DIR ?= .dev
WORKER ?= true

## run: the whole stack on embedded defaults (PostgreSQL, Temporal + Web UI, worker, API);
## `make run WORKER=false` leaves the worker out, for separate workers (make run-worker)
run: bin/devstack
	./bin/devstack --dir=$(DEV_DIR) --worker=$(WORKER)

## run-worker: one more worker process for the stack of `make run` (its settings: $(DEV_DIR)/worker.env)
run-worker: bin/petitiond
	@test -f $(DEV_DIR)/worker.env || { echo "no $(DEV_DIR)/worker.env: start the dev stack first (make run)" >&2; exit 1; }
	set -a && . "$(abspath $(DEV_DIR))/worker.env" && set +a && exec ./bin/petitiond worker

## build: the service binary and the dev stack
build: bin/petitiond bin/devstack

bin/petitiond: FORCE
	$(GO) build -o $@ ./cmd/petitiond

bin/devstack: FORCE
	$(GO) build -o $@ ./cmd/devstack

## test: vet, unit tests and end-to-end tests against real PostgreSQL and Temporal
test: vet
	$(GO) test -count=1 -timeout 40m ./...

vet:
	$(GO) vet ./...

## lint: staticcheck (fetched through the Go module proxy on first use)
lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

## unit: only the fast tests (no Temporal server)
unit:
	$(GO) test -count=1 $$($(GO) list ./... | grep -v /e2e)

## e2e: only the end-to-end tests
e2e:
	$(GO) test -count=1 -v -timeout 30m ./e2e/

## bench: benchmarks, side by side in one run
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## test-deploy: the Helm chart linted and rendered by Helm's engine, every manifest decoded strictly
## into the Kubernetes types; deploy/compose.yaml loaded by Compose's loader (module tools/deploylint,
## fetched through the Go module proxy on first use; the first build takes minutes)
test-deploy:
	cd tools/deploylint && $(GO) test -count=1 ./...

## helm-template: print the chart as Helm renders it (helm pinned in tools/deploylint/go.mod)
helm-template:
	cd tools/deploylint && $(GO) tool helm template petitions ../../deploy/helm/petitiond \
	  --namespace petitions --set secrets.existingSecret=petitiond-secrets

## bench-console: the console's queues over a register of a million cases (BENCH_CASES to change)
bench-console:
	$(GO) test -run '^$$' -bench QueueFirstPage -benchtime 20x -timeout 30m ./internal/console/

## bench-load: petitiond bench against the running dev stack (make run): intake vs bare, and a deadline storm
BENCH_FLAGS ?= -c 4,16 -duration 60s -storm-n 200
bench-load: bin/petitiond
	@test -f $(DEV_DIR)/worker.env || { echo "no $(DEV_DIR)/worker.env: start the dev stack first (make run)" >&2; exit 1; }
	set -a && . "$(abspath $(DEV_DIR))/worker.env" && set +a && exec ./bin/petitiond bench $(BENCH_FLAGS)

## cluster-test: Temporal as separate frontend, history, matching and worker processes on PostgreSQL
## (schemas by temporal-sql-tool), two petitiond workers and two APIs, a worker and an API killed
## mid-run, a rolling upgrade, the load benchmark (a first run builds the Temporal server)
cluster-test:
	PETITIONS_CLUSTER_TEST=1 $(GO) test -count=1 -v -timeout 30m ./cluster/

## record-histories: re-record the workflow histories used by the replay test
record-histories:
	PETITIONS_RECORD_HISTORIES=1 $(GO) test -count=1 -run 'TestLifecycleToTermination|TestHandlingClockActions|TestOverdueEscalatesUnattended|TestCancellationRequestIsRecordedAndTheCaseGoesOn|TestRoutinesThroughHTTP' ./e2e/

clean:
	rm -rf bin

FORCE:

## lint-openapi: lint api/openapi.yaml with Redocly CLI (pinned in tools/openapi-lint; needs Node.js and npm)
.PHONY: lint-openapi vendor-assets
# No usage data sent to Redocly, no update notices.
lint-openapi: export REDOCLY_TELEMETRY := off
lint-openapi: export REDOCLY_SUPPRESS_NOTIFICATIONS := true
lint-openapi:
	cd tools/openapi-lint && npm ci --no-audit --no-fund && npx redocly lint ../../api/openapi.yaml

## vendor-assets: fetch the console's browser libraries from npm (pinned) into
## internal/console/assets/vendor, where go:embed serves them; nothing is fetched at run time
HTMX_VERSION ?= 2.0.11
ECHARTS_VERSION ?= 6.1.0
vendor-assets:
	@command -v npm >/dev/null || { echo "npm is needed to vendor the console's assets" >&2; exit 1; }
	rm -rf .vendor-tmp && mkdir -p .vendor-tmp
	cd .vendor-tmp && npm pack --silent htmx.org@$(HTMX_VERSION) echarts@$(ECHARTS_VERSION) >/dev/null
	cd .vendor-tmp && for f in *.tgz; do tar -xzf $$f && mv package $${f%.tgz}; done
	cp .vendor-tmp/htmx.org-$(HTMX_VERSION)/dist/htmx.min.js internal/console/assets/vendor/htmx.min.js
	cp .vendor-tmp/echarts-$(ECHARTS_VERSION)/dist/echarts.min.js internal/console/assets/vendor/echarts.min.js
	cp .vendor-tmp/htmx.org-$(HTMX_VERSION)/LICENSE internal/console/assets/vendor/htmx.LICENSE
	cp .vendor-tmp/echarts-$(ECHARTS_VERSION)/LICENSE internal/console/assets/vendor/echarts.LICENSE
	cd internal/console/assets/vendor && printf 'htmx.org %s\necharts %s\n' $(HTMX_VERSION) $(ECHARTS_VERSION) > VERSIONS \
	  && sha256sum htmx.min.js echarts.min.js > SHA256SUMS
	rm -rf .vendor-tmp
