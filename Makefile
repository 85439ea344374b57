# The two commands a newcomer needs: `make demo` and `make test`. Everything else is here
# for developers. All targets install missing Debian packages first (scripts/setup).

BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_GEN := -G Ninja

.PHONY: demo test test-default test-asan test-tsan build bench bench-quick format setup clean

setup:
	@scripts/setup

build: setup
	@cmake -S . -B $(BUILD)/default $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD)/default -j $(JOBS)

demo: build
	@$(BUILD)/default/examples/tour

# The whole suite: normal build, then AddressSanitizer+UBSan, then ThreadSanitizer.
test: setup
	@scripts/test-all

test-default test-asan test-tsan: setup
	@scripts/test-all $(subst test-,,$@)

bench: setup
	@scripts/bench

bench-quick: setup
	@scripts/bench --quick

format:
	@clang-format -i $$(git ls-files '*.h' '*.cc' '*.cpp')

clean:
	rm -rf $(BUILD)
