# vkstream: see README.md.  "make run" starts it, "make test" tests it.

SHELL := /bin/bash
ROOT  := $(CURDIR)
B     := build
MOD   := ngx_vkstream_module

# nginx-free units (media pipeline, VK protocol) and their unit-test mains.
LIB_SRCS  := $(wildcard $(MOD)/media/*.c $(MOD)/vk/*.c)
LIB_HDRS  := $(wildcard $(MOD)/media/*.h $(MOD)/vk/*.h)
TEST_SRCS := $(wildcard $(MOD)/test/test_*.c)
TESTS     := $(patsubst $(MOD)/test/%.c,$(B)/test/%,$(TEST_SRCS))

PKGS     := libavcodec libavformat libavutil libswscale libswresample \
            libwebsockets jansson
CFLAGS   ?= -g -O2
UCFLAGS   = $(CFLAGS) -std=gnu99 -Wall -Wextra -Werror -Wno-unused-parameter \
            -I$(MOD) -I$(MOD)/test $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
ULDLIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

.PHONY: all deps module ui install-ui unit test run check-source-build bench \
        clean

# Where "make install-ui" puts the dashboard (nginx.conf.example's alias).
UI_DIR ?= /usr/share/vkstream/ui

all: module

deps:
	@./scripts/deps.sh

module:
	@./scripts/build.sh

# The dashboard: ui/ and hls.js (npm ci when needed) into build/ui.
ui:
	@./scripts/ui-build.sh

install-ui: ui
	install -d $(DESTDIR)$(UI_DIR)
	install -m 644 $(B)/ui/* $(DESTDIR)$(UI_DIR)/

$(B)/test/%: $(MOD)/test/%.c $(LIB_SRCS) $(LIB_HDRS)
	@mkdir -p $(B)/test
	@echo "  CC    $@"
	@$(CC) $(UCFLAGS) -o $@ $< $(LIB_SRCS) $(ULDLIBS)

unit: $(TESTS)

test: deps
	@$(MAKE) --no-print-directory module unit ui
	prove -r -I t/lib t/

run: deps module ui
	@./scripts/run.sh

check-source-build: deps
	@./scripts/source-build.sh

bench: deps module
	@./scripts/bench.sh

clean:
	rm -rf $(B)
