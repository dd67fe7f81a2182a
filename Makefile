# canarysim: a thin layer over CMake.
#   make demo   install what is missing, build Release, run the default study
#   make test   install what is missing, build, install the Python package, run every test
#   make        install what is missing, build, install the Python package into .venv
#               and register its Jupyter kernel ("Python (canarysim)")
#   make notebook  the same, then Jupyter on notebooks/ with that kernel
#   make test-asan  the C++ tests but the long statistical ones, under ASan and UBSan
#   make test-tsan  the threaded C++ tests (runner, sweep, store) under ThreadSanitizer
#   make fuzz   build the libFuzzer harnesses (clang) and run each FUZZ_SECONDS (120)
# Packages come from Debian's archive only (apt-get; sudo when not root).

BUILD ?= build
JOBS ?= $(shell nproc)
PYTHON := /usr/bin/python3
VENV := .venv
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE=$(PYTHON)

DEBIAN_PACKAGES := build-essential cmake ninja-build pkg-config \
  libboost-graph-dev libeigen3-dev libyaml-cpp-dev libcli11-dev libgtest-dev libbenchmark-dev \
  libsqlite3-dev zlib1g-dev pybind11-dev python3-pybind11 python3-dev python3-venv python3-pip \
  python3-setuptools python3-wheel python3-numpy python3-pandas python3-matplotlib \
  python3-yaml python3-pytest python3-scipy python3-nbformat python3-nbclient python3-ipykernel \
  python3-distributed jupyter-nbconvert jupyter-notebook chromium slurm-wlm munge clang libclang-rt-14-dev

.PHONY: all deps build python notebook reference demo test test-cpp test-python test-asan test-tsan fuzz bench clean

all: build python

# Installs only the packages that are missing, so that a prepared machine does no work.
deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:" $$missing; \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q --no-install-recommends $$missing; \
	fi

$(BUILD)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS)

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# The package in a venv that sees Debian's numpy, pandas and Jupyter (PyPI is not needed).
$(VENV)/bin/python: | deps
	$(PYTHON) -m venv --system-site-packages $(VENV)

# The kernel is registered twice: in the venv (the tests' JUPYTER_PATH) and for the user
# (~/.local/share/jupyter), so that any Jupyter on the machine, headless or not, finds it
# with no environment variable set.
python: build $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet --no-build-isolation --no-deps ./python
	for where in "--prefix $(VENV)" --user; do \
	  PYDEVD_DISABLE_FILE_VALIDATION=1 $(VENV)/bin/python -m ipykernel install $$where --name canarysim \
	    --display-name "Python (canarysim)" > /dev/null || exit 1; \
	done
	touch $(VENV)/.installed

# Reinstalled only when the library or the package's sources are newer than the install.
$(VENV)/.installed: $(BUILD)/libcanarysim_core.a $(wildcard python/src/*.cpp python/canarysim/*.py python/setup.py)
	$(MAKE) python

# Jupyter (Debian's jupyter-notebook, installed by deps) on notebooks/, the kernel
# "Python (canarysim)" in its list. NOTEBOOK_ARGS passes options (--no-browser --port=8899);
# as root (containers), --allow-root is added.
notebook: build $(VENV)/.installed
	PYDEVD_DISABLE_FILE_VALIDATION=1 JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter \
	  jupyter notebook --notebook-dir=notebooks $$( [ "$$(id -u)" -ne 0 ] || echo --allow-root ) $(NOTEBOOK_ARGS)

# docs/reference.md, from the readers' schema tables (make test fails when it is stale).
reference: build
	build/canarysim reference > docs/reference.md

demo: build
	$(BUILD)/canarysim run scenarios/default.yaml --runs 1000 --seed 1

test: test-cpp test-python

test-cpp: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# pytest, including every notebook executed headless on the registered kernel.
test-python: python
	JUPYTER_PATH=$(CURDIR)/$(VENV)/share/jupyter PYDEVD_DISABLE_FILE_VALIDATION=1 \
	  $(VENV)/bin/python -m pytest -q tests/python

# Sanitizer builds: the library, CLI and C++ tests only, each in its own folder.
# -O1 with line tables and asserts on: fast to build on two cores, readable reports.
SANITIZER_FLAGS := -G Ninja -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -g1" \
  -DCANARYSIM_PYTHON=OFF -DCANARYSIM_BENCH=OFF

build-asan/build.ninja: CMakeLists.txt | deps
	cmake -S . -B build-asan $(SANITIZER_FLAGS) -DCANARYSIM_SANITIZE=address,undefined

test-asan: deps build-asan/build.ninja
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) -LE long

build-tsan/build.ninja: CMakeLists.txt | deps
	cmake -S . -B build-tsan $(SANITIZER_FLAGS) -DCANARYSIM_SANITIZE=thread

test-tsan: deps build-tsan/build.ninja
	cmake --build build-tsan -j $(JOBS) --target canarysim_tests canarysim
	cd build-tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest --output-on-failure -j $(JOBS) -L threads

FUZZ_SECONDS ?= 120
build-fuzz/build.ninja: CMakeLists.txt | deps
	cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
	  -DCANARYSIM_FUZZ=ON -DCANARYSIM_TESTS=OFF -DCANARYSIM_BENCH=OFF -DCANARYSIM_PYTHON=OFF

fuzz: deps build-fuzz/build.ninja
	cmake --build build-fuzz -j $(JOBS)
	fuzz/run.sh build-fuzz $(FUZZ_SECONDS) $(FUZZ_ENTRIES)

bench: build
	$(BUILD)/bench/mm1_bench
	$(BUILD)/bench/batched_bench
	$(BUILD)/bench/sweep_bench

clean:
	rm -rf $(BUILD) $(VENV) build-asan build-tsan build-fuzz
