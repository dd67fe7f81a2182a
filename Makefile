# canarysim: a thin layer over CMake.
#   make demo   install what is missing, build Release, run the default study
#   make test   install what is missing, build, run every test
#   make        install what is missing and build
# Packages come from Debian's archive only (apt-get; sudo when not root).

BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE=/usr/bin/python3

DEBIAN_PACKAGES := build-essential cmake ninja-build pkg-config \
  libboost-graph-dev libeigen3-dev libyaml-cpp-dev libcli11-dev libgtest-dev libbenchmark-dev \
  libsqlite3-dev pybind11-dev python3-pybind11 python3-dev python3-venv python3-pip \
  python3-setuptools python3-wheel python3-numpy python3-pandas python3-matplotlib \
  python3-pytest python3-scipy

.PHONY: all deps build demo test bench clean

all: build

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

demo: build
	$(BUILD)/canarysim run scenarios/default.yaml --runs 1000 --seed 1

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

bench: build
	$(BUILD)/bench/mm1_bench

clean:
	rm -rf $(BUILD)
