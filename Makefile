# sockspawn: build, test, benchmark, install. See README.md.
#
#   make                      build bin/sockspawn (static, no cgo)
#   make test                 go vet, then every test; as root with
#                             SOCKSPAWN_E2E=1 the end-to-end tests boot
#                             containers too (what .ci/run does)
#   make test-race            the unit tests under the race detector
#   make test-unprivileged    the unit tests as nobody (run it as root)
#   make lint                 staticcheck (staticcheck.conf)
#   make fuzz                 run every fuzz target for FUZZTIME
#   make bench                sockspawn against systemd-nspawn (root)
#   make demo                 boot this machine's own OS in a container (root)
#   make install              PREFIX=/usr/local DESTDIR=

PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man/man1
UNITDIR  ?= $(PREFIX)/lib/systemd/system

GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
LDFLAGS  := -s -w -X main.version=$(VERSION)
BUILD    := $(GO) build -trimpath -ldflags "$(LDFLAGS)"

# A count of executions, not a duration: with a duration, Go 1.26's
# fuzzing coordinator can fail a target with a bare "context deadline
# exceeded" when its time is up (go.dev/issue/75804, fixed in Go 1.27).
FUZZTIME   ?= 300000x
ROUNDS     ?= 15
BENCHFLAGS ?=

# One static binary: no cgo, and the tests are built the same way; only
# the race detector's test binaries (make test-race) are built with cgo,
# which it needs.
export CGO_ENABLED := 0

# The unit tests: every package but the end-to-end tests' (root, long).
UNIT_PKGS = $(shell $(GO) list ./... | grep -v '/cmd/sockspawn/e2e')

UNITS := container@.service container@.socket

# Debian packages are installed only where the command is missing.
APT_INSTALL = DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends

.PHONY: all build bench-binary test test-race test-unprivileged lint fuzz bench demo install uninstall clean readme

all: build

build:
	$(BUILD) -o bin/sockspawn ./cmd/sockspawn

bench-binary:
	$(BUILD) -o bin/sockspawn-bench ./cmd/sockspawn/bench

test:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...

test-race:
	CGO_ENABLED=1 $(GO) test -race -count=1 -timeout 15m $(UNIT_PKGS)

# staticcheck at a fixed version, built into bin/ (not a module of ours).
STATICCHECK_VERSION ?= v0.8.2
lint:
	GOBIN=$(CURDIR)/bin $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	bin/staticcheck ./...

# As root: .ci/test-unprivileged builds as root and runs each test binary
# as nobody, then lists what was skipped and why.
test-unprivileged:
	.ci/test-unprivileged -timeout 15m $(UNIT_PKGS)

# Fuzz targets are found with `go test -list '^Fuzz'` in every package
# that has tests, and each runs for FUZZTIME (executions, or a duration).
fuzz:
	@failed=; \
	for pkg in $$($(GO) list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$target for $(FUZZTIME)"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$pkg || failed="$$failed $$target"; \
		done; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: failed:$$failed"; exit 1; fi

bench: build bench-binary
	@command -v systemd-nspawn >/dev/null || { apt-get update -q && $(APT_INSTALL) systemd-container; }
	bin/sockspawn-bench -sockspawn bin/sockspawn -rounds $(ROUNDS) $(BENCHFLAGS)

demo: build bench-binary
	.ci/demo bin/sockspawn bin/sockspawn-bench

# The man page comes from the binary's own help, and so do the unit
# templates: `sockspawn __install-units` writes them with ExecStart= in
# BINDIR, first, so that a BINDIR systemd would not read as one path is
# refused before anything is installed.
# systemd reads units from /usr/local/lib/systemd/system too; run
# `systemctl daemon-reload` after.
install: build
	bin/sockspawn __man > bin/sockspawn.1
	bin/sockspawn __install-units '$(DESTDIR)' '$(BINDIR)' '$(UNITDIR)'
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)
	install -m 0755 bin/sockspawn $(DESTDIR)$(BINDIR)/sockspawn
	install -m 0644 bin/sockspawn.1 $(DESTDIR)$(MANDIR)/sockspawn.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sockspawn $(DESTDIR)$(MANDIR)/sockspawn.1
	rm -f $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS))

clean:
	rm -rf bin/

# The flag table of README.md is generated from the same table as --help.
readme: build
	{ sed '/<!-- flags:begin/q' README.md; bin/sockspawn __flags-md; sed -n '/<!-- flags:end -->/,$$p' README.md; } > README.md.new
	mv README.md.new README.md
