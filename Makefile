# The README's commands. `make demo` runs the flow on built-in sample data; `make test` runs
# every test (Rust, C, Python, vectors, header, lints). Both install what they need.
SHELL := /bin/bash
# Every recipe line fails on its first failing command, including one inside a pipeline.
.SHELLFLAGS := -euo pipefail -c
PREFIX ?= /usr/local
CARGO ?= cargo

.PHONY: demo serve test test-rust test-backends test-vectors test-codegen codegen test-c test-python test-redis-c test-service test-browser test-faketime test-examples test-fuzz lint header install bench bench-service clean dist test-c-dist test-sdist test-install publish-check

demo:
	$(CARGO) run --release -q -p kycvs-cli -- demo

# The issuer's service and the sample booking site on 127.0.0.1 (README "Run the service" and
# "Embedding the consent page"): new keys in a fresh target/serve, the built-in sample
# registry, the `log` SMS sender (OTPs appear in target/serve/state/sms.log) and the booking
# site as the one client, whose secret is printed once. Runs until Ctrl-C.
PORT ?= 8080
BOOKING_PORT ?= 8000
serve:
	KYCVS_PORT=$(PORT) BOOKING_PORT=$(BOOKING_PORT) bash scripts/serve.sh

test: lint test-rust test-backends test-vectors test-codegen test-c test-python test-redis-c test-service test-browser test-faketime test-examples test-fuzz \
	test-c-dist test-sdist test-install publish-check
	@echo "make test: all suites passed"

# The libraries and the CLI are offline: no dependency of kycvs-core, the C library, the Python module or the CLI
# may bring an HTTP client or a TLS stack. (kycvs-server, the issuer's service, may.)
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --workspace --no-deps -q
	@tree=$$($(CARGO) tree -p kycvs-core -p kycvs-ffi -p kycvs-py -p kycvs-cli -e normal,build,dev --prefix none); \
	if grep -iE '^(reqwest|hyper|ureq|rustls|native-tls|openssl|aws-lc|curl|h2) ' <<< "$$tree"; then \
		echo "error: a network or TLS crate is in the dependency tree"; exit 1; fi

# The Redis stores' tests start a real redis-server (installed by scripts/test-deps.sh).
test-rust:
	bash scripts/test-deps.sh
	$(CARGO) test --workspace

# The vector suites again on each curve25519 backend (AVX2 and serial under qemu-x86_64 CPU
# models, the native one as is), reusing test-rust's test binaries: the same verdicts on all.
test-backends:
	bash scripts/backends.sh

# The committed vectors must be exactly what the generator writes now.
test-vectors:
	$(CARGO) run -q -p kycvs-testvectors -- --check testvectors

# The C, Python and specification copies of the error-code table must be exactly what the
# generator writes from core/src/error/codes.rs now.
test-codegen:
	$(CARGO) run -q -p kycvs-codegen -- --check .

test-c:
	bash ffi/tests/run.sh

test-python:
	bash python/tests/run.sh

# The C reference replay store over Redis (examples/redis/): C and Python verifier processes
# on one real redis-server refuse each other's tokens as replayed, and a killed or paused
# Redis refuses tokens until it is back. Uses the wheel test-python installed in .venv.
test-redis-c:
	bash examples/redis/test.sh

# The README's "Run the service" walk-through against a real kycvs-server on a free loopback
# port; its token must verify with the CLI, the C library and the Python wheel.
test-service:
	bash scripts/service-walkthrough.sh
# The sample booking site and the consent page end to end in headless Chromium; screenshots
# in target/screenshots/.
test-browser:
	bash examples/booking/tests/run.sh

# The Rust, C and Python suites again with the clock ten years ahead (libfaketime), reusing
# what test-rust, test-c and test-python built: no test may compare a fixed time with the clock.
test-faketime:
	bash scripts/test-deps.sh
	bash scripts/faketime.sh

# The README's C and Python quickstarts (examples/) compile, run and check their verdicts.
# The C one is built as the README says: installed, then through pkg-config.
test-examples:
	bash ffi/install.sh "$(CURDIR)/target/example-prefix" > /dev/null
	export PKG_CONFIG_PATH="$(CURDIR)/target/example-prefix/lib/pkgconfig" && \
	$(CC) -std=c11 -Wall -Wextra -Wpedantic -Werror examples/quickstart.c -o target/quickstart \
		$$(pkg-config --cflags --libs kycvs) -Wl,-rpath,"$(CURDIR)/target/example-prefix/lib"
	target/quickstart
	.venv/bin/python examples/quickstart.py

# A few seconds of every cargo-fuzz target (nightly, AddressSanitizer); README "Fuzzing" says
# how to run them longer.
test-fuzz:
	bash fuzz/smoke.sh 5

# Rewrite the copies of the error-code table (ffi/src/error/codes.rs, the Python exceptions and
# exports, docs/SPEC.md section 10) from core/src/error/codes.rs, then the C header from them.
codegen:
	$(CARGO) run -q -p kycvs-codegen -- --write .
	bash ffi/header.sh write

# Regenerate include/kycvs.h with the pinned cbindgen.
header:
	bash ffi/header.sh write

# The C library (lib/, include/, pkg-config and CMake files) and the kycvs command with its
# man pages and bash, zsh and fish completions.
install:
	bash ffi/install.sh "$(PREFIX)"
	bash cli/install.sh "$(PREFIX)"

# What ships, in dist/: the Python wheel (abi3, manylinux2014, auditwheel-checked), the sdist
# and the C tarball (stripped libkycvs.so/.a, header, pkg-config and CMake files).
dist:
	bash python/build.sh wheel dist
	bash python/build.sh sdist dist
	bash ffi/dist.sh dist
	@ls -l dist

# The crates meant for crates.io (kycvs-ifma, kycvs-core, kycvs-cli) package and build as
# published. cargo treats the workspace's own packaged crates as registry crates: it unpacks
# them into its registry cache ($CARGO_HOME/registry/src/-<hash>/) and reuses both an earlier
# unpack and an earlier build of the same version, so a second run would build yesterday's
# sources. Both go first; the build has a target directory of its own.
publish-check:
	rm -rf "$${CARGO_HOME:-$$HOME/.cargo}"/registry/src/-*/kycvs-* target/publish-check
	CARGO_TARGET_DIR=target/publish-check $(CARGO) publish --workspace --dry-run

# The C tarball unpacked as a user gets it: size, exports, soname, a CMake consumer project.
test-c-dist:
	bash ffi/tests/dist.sh

# `pip install kycvs-*.tar.gz` into a new venv compiles and installs a working package.
test-sdist:
	bash python/tests/sdist.sh

# `make install` into a temporary prefix: `man kycvs` renders and the bash completion loads.
test-install:
	bash cli/tests/install.sh

bench:
	bash benches/run.sh

# The service's load test alone (benches/load): figures on stdout, RESULTS.md untouched.
# Arguments for kycvs-load in LOAD_ARGS, e.g. make bench-service LOAD_ARGS="--duration 60".
bench-service:
	bash benches/service.sh $(LOAD_ARGS)

clean:
	$(CARGO) clean
	rm -rf .venv .venv-build build dist
