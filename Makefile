# parla — common tasks. `make demo` and `make test` work on a fresh Debian/Ubuntu machine:
# both install the system packages the build needs first (scripts/setup.sh).

CARGO ?= cargo

.PHONY: setup setup-test demo demo-cast test lint unit bench docs fmt serve

setup:
	@bash scripts/setup.sh

## The independent tools the tests run against parla (a Python venv under target/).
setup-test: setup
	@bash scripts/setup-test.sh

## Start a local server with demo users and bots, and open the interface.
demo: setup
	$(CARGO) run --quiet -- demo

## Play the scripted demo tour headless and record it to target/demo/demo.cast.
demo-cast: setup
	mkdir -p target/demo
	$(CARGO) run --quiet -- demo --script scripts/demo.tour --record-cast target/demo/demo.cast --media-bind 127.0.0.1:0 --call-after 30

## Everything CI checks: formatting, lints, and every test.
test: setup-test lint
	$(CARGO) test

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --quiet -- -D warnings

## Benchmarks (release build); tables on stdout, JSON under target/bench/.
bench: setup-test
	@bash scripts/setup-bench.sh
	$(CARGO) bench --bench fanout
	$(CARGO) bench --bench calls
	$(CARGO) bench --bench quality
	$(CARGO) bench --bench tui
	$(CARGO) bench --bench setup
	$(CARGO) bench --bench moves

## Regenerate the committed man pages, completions and OpenAPI document.
docs:
	PARLA_BLESS=1 $(CARGO) test --test docs

fmt:
	$(CARGO) fmt

serve: setup
	$(CARGO) run --quiet -- serve
