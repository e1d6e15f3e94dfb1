# recist_app — the commands a newcomer needs (see README).
#   make run    create .venv, install, open the workstation on the demo patient
#   make test   create .venv, install with test extras, run ruff, mypy, import-linter, pytest
#   make quick  pytest without the slow and GUI tests (the edit-test loop)
#   make bench  run the benchmarks (ratios against peers measured in the same run)
#   make screenshots  the README's screenshots: the real app under Xvfb, xdotool
#   make soak   a 30-minute reading session (scroll, draw, undo, visits, patients)
#               that must quit with exit status 0 (SOAK_MINUTES=30)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Qt needs these shared libraries even offscreen; tests need the DICOM tools, a
# PostgreSQL server (Debian keeps initdb in /usr/lib/postgresql/N/bin, off PATH)
# and an Orthanc PACS with its DICOMweb plugin (the PACS tests start their own).
SYSTEM_LIBS := libGL.so.1:libgl1 libEGL.so.1:libegl1 libxkbcommon.so.0:libxkbcommon0 \
               libfontconfig.so.1:libfontconfig1 libdbus-1.so.3:libdbus-1-3 \
               libglib-2.0.so.0:libglib2.0-0
SYSTEM_TOOLS := dciodvfy:dicom3tools dsrdump:dcmtk pdftoppm:poppler-utils \
                initdb:postgresql Orthanc:orthanc
SYSTEM_FILES := /usr/share/orthanc/plugins/libOrthancDicomWeb.so:orthanc-dicomweb

.PHONY: run test quick check lint typecheck layers pytest bench system-deps clean \
        screen-deps screenshots soak

# A real X display for screenshots: Xvfb, a window manager, xdotool, ImageMagick
# and the xcb libraries Qt's xcb plugin needs (not needed by `make test`).
SCREEN_PACKAGES := xvfb xdotool imagemagick openbox libxcb-icccm4 libxcb-keysyms1 \
                   libxkbcommon-x11-0 libxcb-cursor0
SOAK_MINUTES ?= 30

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed-run

# Debian packages the app or the tests need; installed only when missing.
system-deps:
	@missing=""; \
	for pair in $(SYSTEM_LIBS); do \
	  lib=$${pair%%:*}; pkg=$${pair##*:}; \
	  ldconfig -p 2>/dev/null | grep -q "$$lib" || missing="$$missing $$pkg"; \
	done; \
	for pair in $(SYSTEM_TOOLS); do \
	  tool=$${pair%%:*}; pkg=$${pair##*:}; \
	  command -v "$$tool" >/dev/null 2>&1 \
	    || ls /usr/lib/postgresql/*/bin/"$$tool" >/dev/null 2>&1 \
	    || [ -x /usr/sbin/"$$tool" ] \
	    || missing="$$missing $$pkg"; \
	done; \
	for pair in $(SYSTEM_FILES); do \
	  [ -e "$${pair%%:*}" ] || missing="$$missing $${pair##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) \
	      || echo "warning: could not install$$missing; tests that need them will skip"; \
	  elif command -v sudo >/dev/null; then \
	    (sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing) \
	      || echo "warning: could not install$$missing; tests that need them will skip"; \
	  else \
	    echo "warning: cannot install$$missing (not root, no sudo); tests that need them will skip"; \
	  fi; \
	fi

run: system-deps $(VENV)/.installed-run
	$(BIN)/recist-app --demo

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check recist_app tests benchmarks
	$(BIN)/ruff format --check recist_app tests benchmarks

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

layers: $(VENV)/.installed-dev
	$(BIN)/lint-imports

pytest: system-deps $(VENV)/.installed-dev
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

test: lint typecheck layers pytest

quick: system-deps $(VENV)/.installed-dev
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest -m "not slow and not gui"

check: test

bench: $(VENV)/.installed-dev
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

screen-deps:
	@missing=""; \
	for pkg in $(SCREEN_PACKAGES); do \
	  dpkg -s "$$pkg" >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else \
	    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  fi; \
	fi

screenshots: system-deps screen-deps $(VENV)/.installed-run
	docs/make_screenshots.sh $(BIN)

soak: system-deps $(VENV)/.installed-dev
	QT_QPA_PLATFORM=offscreen $(BIN)/python -X faulthandler -m tests.ui.soak \
	  --minutes $(SOAK_MINUTES)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info
