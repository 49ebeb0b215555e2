# vkstream: see README.md.  "make run" starts it, "make test" tests it.

SHELL := /bin/bash
ROOT  := $(CURDIR)
B     := build
MOD   := ngx_vkstream_module

# nginx-free units (media pipeline, VK protocol, HTTP API requests, shared
# helpers, cluster on Redis) and their unit-test mains.
LIB_SRCS  := $(wildcard $(MOD)/media/*.c $(MOD)/vk/*.c $(MOD)/api/*.c \
                       $(MOD)/util/*.c $(MOD)/cluster/*.c)
LIB_HDRS  := $(wildcard $(MOD)/media/*.h $(MOD)/vk/*.h $(MOD)/api/*.h \
                       $(MOD)/util/*.h $(MOD)/cluster/*.h)
TEST_SRCS := $(wildcard $(MOD)/test/test_*.c)

# SANITIZE=1: module, unit tests and the test run with ASan and UBSan
# (build/ngx_vkstream_module-asan.so, build/test-asan); any sanitizer report
# of nginx (logged to build/asan-logs) fails "make test".
SANITIZE  ?=
ifneq ($(filter-out 0,$(SANITIZE)),)
# gcc 12 gives false -Warray-bounds and -Wstringop-overflow with ASan
SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
             -Wno-array-bounds -Wno-stringop-overflow
TB        := $(B)/test-asan
else
SAN_FLAGS :=
TB        := $(B)/test
endif
TESTS     := $(patsubst $(MOD)/test/%.c,$(TB)/%,$(TEST_SRCS))

PKGS     := libavcodec libavformat libavutil libswscale libswresample \
            libwebsockets jansson openssl hiredis
CFLAGS   ?= -g -O2
UCFLAGS   = $(CFLAGS) $(SAN_FLAGS) -std=gnu99 -Wall -Wextra -Werror \
            -Wno-unused-parameter -I$(MOD) -I$(MOD)/test $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
ULDLIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

.PHONY: all deps module ui install-ui unit test run check-source-build bench \
        clean fuzz fuzz-build deb

# Where "make install-ui" puts the dashboard (nginx.conf.example's alias).
UI_DIR ?= /usr/share/vkstream/ui

all: module

deps:
	@./scripts/deps.sh

module:
	@SANITIZE=$(SANITIZE) ./scripts/build.sh

# The dashboard: ui/ and hls.js (npm ci when needed) into build/ui.
ui:
	@./scripts/ui-build.sh

install-ui: ui
	install -d $(DESTDIR)$(UI_DIR)
	install -m 644 $(B)/ui/* $(DESTDIR)$(UI_DIR)/

$(TB)/%: $(MOD)/test/%.c $(LIB_SRCS) $(LIB_HDRS)
	@mkdir -p $(TB)
	@echo "  CC    $@"
	@$(CC) $(UCFLAGS) -o $@ $< $(LIB_SRCS) $(ULDLIBS)

unit: $(TESTS)

# libFuzzer targets (clang), with ASan and UBSan: see fuzz/README.md.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SRCS    := $(wildcard fuzz/fuzz_*.c)
FUZZERS      := $(patsubst fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRCS))
FUZZ_CFLAGS   = -g -O1 -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=undefined -std=gnu99 -Wall -Wextra \
                -Werror -Wno-unused-parameter -I$(MOD) \
                $(shell pkg-config --cflags $(PKGS) 2>/dev/null)

$(B)/fuzz/%: fuzz/%.c $(LIB_SRCS) $(LIB_HDRS)
	@mkdir -p $(B)/fuzz
	@echo "  FUZZ  $@"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRCS) $(ULDLIBS)

fuzz-build: $(FUZZERS)

fuzz: fuzz-build
	@./scripts/fuzz.sh $(FUZZ_SECONDS)

test: deps
	@$(MAKE) --no-print-directory module unit ui
ifneq ($(SAN_FLAGS),)
	@rm -rf $(B)/asan-logs && mkdir -p $(B)/asan-logs \
	    && chmod 1777 $(B)/asan-logs
	VKSTREAM_SANITIZE=1 prove -r -I t/lib t/; rc=$$?; \
	    ./scripts/asan-check.sh $(B)/asan-logs && exit $$rc
else
	@# t/73-leaks.t runs LeakSanitizer with the ASan build of the module
	@SANITIZE=1 ./scripts/build.sh
	prove -r -I t/lib t/
endif

run: deps module ui
	@./scripts/run.sh

# The Debian package libnginx-mod-vkstream (debian/), built with
# dpkg-buildpackage and checked by lintian, into build/deb/.
deb: deps
	@./scripts/deb.sh

check-source-build: deps
	@./scripts/source-build.sh

bench: deps module ui
	@./scripts/bench.sh

clean:
	rm -rf $(B)
