# Bulwark build, test and run. Every target installs what it needs first, so each works
# as the first command on a fresh Debian 12 machine (as root).
SHELL := /bin/bash
.ONESHELL:
.SHELLFLAGS := -eu -o pipefail -c

DOTNET        ?= dotnet
CONFIGURATION ?= Release
COMMIT        := $(shell git rev-parse --verify -q HEAD 2>/dev/null || echo unknown)
BUILD_FLAGS   := -c $(CONFIGURATION) -p:SourceRevisionId=$(COMMIT) --nologo -v:q
BIN           := src/bin/$(CONFIGURATION)/net10.0/bulwark
RUN_DIR       := $(CURDIR)/.run
# Debian packages the tests and `make run` use for real (see ../shared/DESIGN.md).
APT_PACKAGES  := etcd-server etcd-client containerd runc containernetworking-plugins openscap-scanner \
                 docker-registry skopeo busybox-static openssl iproute2 util-linux passwd procps chromium \
                 zstd iptables swtpm swtpm-tools tpm2-tools libxml2-utils umoci systemd
APT_PACKAGES  += nodejs unzip python3
# npm packages the tests run for real, installed under .tools/ (s3rver: an S3-protocol server on 127.0.0.1 for the snapshot tests).
NPM_PACKAGES  := s3rver@3.7.1
TOOLS_DIR     := $(CURDIR)/.tools

.PHONY: all deps tools build test unit-test integration-test run publish release bench startup-profile clean

all: build

## deps: install missing Debian packages (apt-get update runs once, only if something is missing)
deps:
	@missing=""
	for p in $(APT_PACKAGES); do
	  dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"
	done
	if [ -n "$$missing" ]; then
	  echo "deps: installing$$missing"
	  export DEBIAN_FRONTEND=noninteractive
	  apt-get update -qq
	  apt-get install -y -qq --no-install-recommends $$missing >/dev/null
	else
	  echo "deps: all $(words $(APT_PACKAGES)) packages present"
	fi
	command -v $(DOTNET) >/dev/null || { echo "deps: the .NET 10 SDK is required (dotnet on PATH); see README.md"; exit 1; }

## tools: install the npm test tools into .tools/ (once; npm comes with nodejs from some sources, else from Debian)
tools: deps
	@command -v npm >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
	if [ ! -x $(TOOLS_DIR)/node_modules/.bin/s3rver ]; then
	  echo "tools: installing $(NPM_PACKAGES) into $(TOOLS_DIR)"
	  npm install --prefix $(TOOLS_DIR) --no-audit --no-fund --silent $(NPM_PACKAGES)
	else
	  echo "tools: $(NPM_PACKAGES) present in $(TOOLS_DIR)"
	fi

## build: compile everything (warnings are errors)
build: deps
	@$(DOTNET) build Bulwark.slnx $(BUILD_FLAGS)

## test: unit tests, then integration tests (real etcd, openssl, oscap, namespaces) running the CLI as the published
## Native AOT binary, so an AOT-only failure fails the suite; prints "N passed, N failed"
test: build publish tools
	@rm -rf TestResults
	status=0
	$(DOTNET) test tests/Bulwark.UnitTests/Bulwark.UnitTests.csproj --no-build -c $(CONFIGURATION) --logger "trx;LogFileName=unit.trx" --logger "console;verbosity=minimal" --results-directory TestResults || status=1
	TEST_BULWARK_BINARY=$(CURDIR)/dist/bulwark $(DOTNET) test tests/Bulwark.IntegrationTests/Bulwark.IntegrationTests.csproj --no-build -c $(CONFIGURATION) --logger "trx;LogFileName=integration.trx" --logger "console;verbosity=minimal" --results-directory TestResults || status=1
	passed=0; failed=0; skipped=0
	for f in TestResults/*.trx; do
	  c=$$(grep -o '<Counters [^>]*>' "$$f")
	  passed=$$((passed + $$(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$$c")))
	  failed=$$((failed + $$(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$$c")))
	  skipped=$$((skipped + $$(sed -E 's/.* notExecuted="([0-9]+)".*/\1/' <<<"$$c")))
	done
	echo "$$passed passed, $$failed failed, $$skipped skipped"
	exit $$status

unit-test: build
	@$(DOTNET) test tests/Bulwark.UnitTests/Bulwark.UnitTests.csproj --no-build -c $(CONFIGURATION)

integration-test: build publish tools
	@TEST_BULWARK_BINARY=$(CURDIR)/dist/bulwark $(DOTNET) test tests/Bulwark.IntegrationTests/Bulwark.IntegrationTests.csproj --no-build -c $(CONFIGURATION)

## run: build, then show Bulwark on this host with the embedded default config
run: build
	@./scripts/run.sh "$(BIN)" "$(RUN_DIR)"

## publish: one Native AOT binary at dist/bulwark (warnings are errors, as in every build)
publish: deps
	@$(DOTNET) publish src/Bulwark.csproj -c Release -r linux-x64 -p:PublishAot=true \
	  -p:SourceRevisionId=$(COMMIT) --nologo -v:q -o dist
	rm -f dist/*.pdb dist/*.dbg
	echo "dist/bulwark: $$(du -h dist/bulwark | cut -f1) ($$(stat -c %s dist/bulwark) bytes)"

## release: the release files install.sh takes (tarball, sha256 checksums, install.sh) in dist/release
release: publish
	@./scripts/release.sh dist/bulwark dist/release

## startup-profile: re-record src/bulwark.order, the method layout of the AOT binary (start-up code together, so less of
## it stays resident), from a real server and its KMS plugin; then rebuild, compare `make bench`, and commit the file
startup-profile: build publish
	@$(DOTNET) run --project tests/Bulwark.Benchmarks -c Release --no-build -- startup-profile

## bench: speed and memory figures, printed as ratios against a peer run in the same go (CLI figures use dist/bulwark)
bench: build publish
	@$(DOTNET) run --project tests/Bulwark.Benchmarks -c Release --no-build -- $(BENCH)

clean:
	@rm -rf dist TestResults $(RUN_DIR)
	find . -name bin -o -name obj | grep -E '/(src|tests)/' | xargs rm -rf
