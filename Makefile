# cr-tools: libimg and the tools built on it.  One plain Makefile.
#
#   make              libimg (static, shared, pkg-config file) and the tools
#   make check        every test that needs no network (unit, CLI, corpus, negative, fuzz replay)
#   make asan         the same suite built with AddressSanitizer and UBSan
#   make demo         decode and explore the bundled sample image set
#   make bench        speed against the peers (crit, criu-coredump, grep, cmp), measured in one run
#   make fuzz         the libFuzzer targets, FUZZ_SECONDS each (FUZZ_JOBS at once), with clang
#   make install      PREFIX=/usr/local DESTDIR=

VERSION     := 0.1.0
PREFIX      ?= /usr/local
DESTDIR     ?=
CC          ?= cc
CFLAGS      ?= -O2 -g
WERROR      ?=
# B: where objects go; O: where the library and tools go (the tools land in ./cr-inspect/ etc. by default)
B           ?= build
O           ?= .

WARN        := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers $(WERROR)
CPPFLAGS    += -Ilibimg/include -D_GNU_SOURCE -DCR_TOOLS_VERSION='"$(VERSION)"'
ALL_CFLAGS  := -std=gnu11 -fPIC $(WARN) $(CFLAGS)
LDLIBS      += -lz -lelf -lm

LIB_SRCS    := $(sort $(wildcard libimg/*.c libimg/*/*.c))
LIB_OBJS    := $(LIB_SRCS:%.c=$(B)/%.o) $(B)/gen/schema_tables.o $(B)/gen/tab_data.o $(B)/gen/linuxcr_tables.o
SCHEMA_SRCS := $(wildcard schemas/criu/*.schema schemas/criu/images.tab schemas/criu/maps.tab)
# The other tables (kernel and CPU features, CRIU log messages, transform tables): embedded as text, parsed at first use.
TAB_SRCS    := $(sort $(wildcard schemas/features/*.tab)) schemas/criu/logmsgs.tab schemas/criu/legacy.tab schemas/linuxcr/bridge.tab $(sort $(wildcard schemas/transforms/*.json))
LCR_SRCS    := $(wildcard schemas/linuxcr/*.layout schemas/linuxcr/*.tab)

INSPECT_OBJS := $(patsubst %.c,$(B)/%.o,$(sort $(wildcard cr-inspect/*.c cr-inspect/tui/*.c)))
CONVERT_OBJS := $(patsubst %.c,$(B)/%.o,$(sort $(wildcard cr-convert/*.c)))
DIFF_OBJS    := $(patsubst %.c,$(B)/%.o,$(sort $(wildcard cr-diff/*.c)))

LIBA   := $(O)/libimg/libimg.a
LIBSO  := $(O)/libimg/libimg.so.0
TOOLS  := $(O)/cr-inspect/cr-inspect $(O)/cr-convert/cr-convert $(O)/cr-diff/cr-diff

all: $(LIBA) $(LIBSO) $(O)/libimg/libimg.pc $(TOOLS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

# The schema tables: tools/schemac reads schemas/criu with libimg's own schema parser.
SCHEMAC_OBJS := $(B)/tools/schemac.o $(B)/libimg/schema_load.o $(B)/libimg/schema.o $(B)/libimg/base.o $(B)/libimg/io.o \
		$(B)/libimg/listdir.o
$(B)/tools/schemac: $(SCHEMAC_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^

$(B)/gen/schema_tables.c: $(B)/tools/schemac $(SCHEMA_SRCS)
	@mkdir -p $(dir $@)
	$(B)/tools/schemac schemas/criu $@

$(B)/gen/schema_tables.o: $(B)/gen/schema_tables.c
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Wno-missing-prototypes -c -o $@ $<

$(B)/tools/tabc: $(B)/tools/tabc.o
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^

$(B)/gen/tab_data.c: $(B)/tools/tabc $(TAB_SRCS) Makefile
	@mkdir -p $(dir $@)
	$(B)/tools/tabc $@ $(TAB_SRCS)

$(B)/gen/tab_data.o: $(B)/gen/tab_data.c
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Wno-missing-prototypes -c -o $@ $<

# The linux-cr tables: tools/lcrtabc reads schemas/linuxcr with libimg's own loader.
LCRTABC_OBJS := $(B)/tools/lcrtabc.o $(B)/libimg/linuxcr/tables_load.o $(B)/libimg/linuxcr/tables.o \
		$(B)/libimg/base.o $(B)/libimg/io.o
$(B)/tools/lcrtabc: $(LCRTABC_OBJS)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $^

$(B)/gen/linuxcr_tables.c: $(B)/tools/lcrtabc $(LCR_SRCS)
	@mkdir -p $(dir $@)
	$(B)/tools/lcrtabc schemas/linuxcr $@

$(B)/gen/linuxcr_tables.o: $(B)/gen/linuxcr_tables.c
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Wno-missing-prototypes -c -o $@ $<

$(LIBA): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(LIBSO): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -shared -Wl,-soname,libimg.so.0 -o $@ $^ $(LDLIBS)
	ln -sf libimg.so.0 $(O)/libimg/libimg.so

$(O)/libimg/libimg.pc: libimg/libimg.pc.in Makefile
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

$(O)/cr-inspect/cr-inspect: $(INSPECT_OBJS) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(INSPECT_OBJS) $(LIBA) $(LDLIBS) -lncursesw

$(O)/cr-convert/cr-convert: $(CONVERT_OBJS) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(CONVERT_OBJS) $(LIBA) $(LDLIBS)

$(O)/cr-diff/cr-diff: $(DIFF_OBJS) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(DIFF_OBJS) $(LIBA) $(LDLIBS)

# Tests

UNIT_SRCS := $(sort $(wildcard tests/unit/*.c))
$(B)/tests/unit/run: $(UNIT_SRCS:%.c=$(B)/%.o) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(UNIT_SRCS:%.c=$(B)/%.o) $(LIBA) $(LDLIBS) -lcunit

TESTGEN_SRCS := $(sort $(wildcard testdata/gen/*.c))
$(B)/testdata/gen/imggen: $(TESTGEN_SRCS:%.c=$(B)/%.o) $(LIBA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(TESTGEN_SRCS:%.c=$(B)/%.o) $(LIBA) $(LDLIBS)

# Fuzz targets (tests/fuzz/NAME.c; tar and targz are both archive.c).  make check links
# them with replay.c to replay tests/fuzz/regressions/; make fuzz (tests/fuzz/run) builds
# them again under build/fuzz with clang and libFuzzer (FUZZ_MAIN= FUZZ_LDFLAGS=-fsanitize=fuzzer...).
FUZZ_NAMES   := pb image dir tar targz json explain profile schema linuxcr
FUZZ_BINS    := $(FUZZ_NAMES:%=$(B)/tests/fuzz/%)
FUZZ_MAIN    ?= $(B)/tests/fuzz/replay.o
FUZZ_LDFLAGS ?=
FUZZ_COMMON  := $(B)/tests/fuzz/common.o $(B)/tests/support/memcount.o
$(B)/tests/fuzz/%.o: CPPFLAGS += -DCR_TOP='"$(abspath .)"'

$(B)/tests/fuzz/tar.o: tests/fuzz/archive.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/tests/fuzz/targz.o: tests/fuzz/archive.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -DFUZZ_GZIP -MMD -MP -c -o $@ $<

# the dir target runs cr-inspect's commands in-process
$(B)/tests/fuzz/inspect_main.o: cr-inspect/main.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Icr-inspect $(ALL_CFLAGS) -Dmain=inspect_main -Wno-missing-prototypes -MMD -MP -c -o $@ $<

$(B)/tests/fuzz/dir: $(filter-out $(B)/cr-inspect/main.o,$(INSPECT_OBJS)) $(B)/tests/fuzz/inspect_main.o

$(FUZZ_BINS): $(B)/tests/fuzz/%: $(B)/tests/fuzz/%.o $(FUZZ_COMMON) $(FUZZ_MAIN) $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) $(FUZZ_LDFLAGS) -o $@ $(filter %.o,$^) $(LIBA) $(LDLIBS) -lncursesw

$(B)/tests/fuzz/seedgen: $(B)/tests/fuzz/seedgen.o $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBA) $(LDLIBS)

fuzz-bins: $(FUZZ_BINS)

# The allocation-failure test: one driver per tool, the tool's main linked in renamed.
ALLOCFAIL := $(B)/tests/alloc/allocfail-inspect $(B)/tests/alloc/allocfail-convert
$(B)/tests/alloc/%.o: CPPFLAGS += -DCR_TOP='"$(abspath .)"'
$(B)/tests/alloc/main-inspect.o: cr-inspect/main.c
$(B)/tests/alloc/main-convert.o: cr-convert/main.c
$(B)/tests/alloc/main-inspect.o $(B)/tests/alloc/main-convert.o:
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -Dmain=tool_main -Wno-missing-prototypes -MMD -MP -c -o $@ $<
$(B)/tests/alloc/allocfail-inspect.o $(B)/tests/alloc/allocfail-convert.o: tests/alloc/allocfail.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -DTOOL_$(if $(findstring inspect,$@),INSPECT,CONVERT) -MMD -MP -c -o $@ $<
$(B)/tests/alloc/allocfail-inspect: $(filter-out $(B)/cr-inspect/main.o,$(INSPECT_OBJS)) $(B)/tests/alloc/main-inspect.o
$(B)/tests/alloc/allocfail-convert: $(filter-out $(B)/cr-convert/main.o,$(CONVERT_OBJS)) $(B)/tests/alloc/main-convert.o
$(B)/tests/alloc/budget: $(B)/tests/alloc/budget.o $(B)/tests/support/memcount.o $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBA) $(LDLIBS)
$(ALLOCFAIL): $(B)/tests/alloc/%: $(B)/tests/alloc/%.o $(B)/tests/support/memcount.o $(LIBA)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LIBA) $(LDLIBS) -lncursesw

TEST_ENV = CR_INSPECT=$(abspath $(O))/cr-inspect/cr-inspect CR_CONVERT=$(abspath $(O))/cr-convert/cr-convert \
	   CR_DIFF=$(abspath $(O))/cr-diff/cr-diff CR_BUILD=$(abspath $(B))

check: all $(B)/tests/unit/run $(if $(TESTGEN_SRCS),$(B)/testdata/gen/imggen) $(FUZZ_BINS) $(ALLOCFAIL) $(B)/tests/alloc/budget
	$(B)/tests/unit/run
	$(TEST_ENV) tests/run-all

asan:
	ASAN_OPTIONS=exitcode=86:detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:exitcode=87 \
	$(MAKE) B=build/asan O=build/asan WERROR=-Werror \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		LDFLAGS="-fsanitize=address,undefined" check

demo: all
	tests/demo

bench: all
	tests/bench/run

FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 1
fuzz:
	FUZZ_JOBS=$(FUZZ_JOBS) tests/fuzz/run $(FUZZ_SECONDS)

deps:
	tests/deps

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/include/img \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man3
	install -m 755 $(TOOLS) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(LIBA) $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(LIBSO) $(DESTDIR)$(PREFIX)/lib/
	ln -sf libimg.so.0 $(DESTDIR)$(PREFIX)/lib/libimg.so
	install -m 644 $(O)/libimg/libimg.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 644 libimg/include/libimg.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 libimg/include/img/*.h $(DESTDIR)$(PREFIX)/include/img/
	install -m 644 man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/*.3 $(DESTDIR)$(PREFIX)/share/man/man3/

clean:
	rm -rf build $(TOOLS) libimg/libimg.a libimg/libimg.so libimg/libimg.so.0 libimg/libimg.pc

.PHONY: all check asan demo bench fuzz fuzz-bins deps install clean
.DELETE_ON_ERROR:

-include $(shell find $(B) -name '*.d' 2>/dev/null)
