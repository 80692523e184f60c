# parla — common tasks. `make demo` and `make test` work on a fresh Debian/Ubuntu machine:
# both install the system packages the build needs first (scripts/setup.sh).

CARGO ?= cargo

.PHONY: setup demo test lint unit bench docs fmt serve

setup:
	@bash scripts/setup.sh

## Start a local server with demo users and a chat bot.
demo: setup
	$(CARGO) run --quiet -- demo

## Everything CI checks: formatting, lints, and every test.
test: setup lint
	$(CARGO) test

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --all-targets --quiet -- -D warnings

## Benchmarks (release build); tables on stdout, JSON under target/bench/.
bench:
	@bash scripts/setup-bench.sh
	$(CARGO) bench --bench fanout
	$(CARGO) bench --bench calls
	$(CARGO) bench --bench quality

## Regenerate the committed man pages, completions and OpenAPI document.
docs:
	PARLA_BLESS=1 $(CARGO) test --test docs

fmt:
	$(CARGO) fmt

serve: setup
	$(CARGO) run --quiet -- serve
