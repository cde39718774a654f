# Docker Compose tooling: a virtualenv holding docker-compose 1.29.2 (the Python release),
# used to validate docker-compose.yml offline (`docker-compose config` needs no daemon).
#
# Included by the main Makefile; also works on its own from the repository root:
#   make -f mk/compose.mk .venv-compose/.installed
#
# docker-compose 1.29.2 needs PyYAML<6, which clashes with Airflow's PyYAML>=6, hence its own
# virtualenv. PyYAML 5.4.1 has no wheel for Python 3.11, so pip builds it from source, and that
# build fails with Cython 3: PIP_CONSTRAINT (which pip also applies inside its isolated build
# environments) holds Cython below 3.

# Keep whichever default goal the including Makefile has (restored at the end of this file).
_compose_default_goal := $(.DEFAULT_GOAL)
COMPOSE_MK := $(lastword $(MAKEFILE_LIST))

PYTHON ?= python3.11
UV ?= .venv/bin/uv
COMPOSE_VENV ?= .venv-compose
COMPOSE_LOCK ?= requirements-compose.lock
COMPOSE_IN ?= requirements-compose.in
COMPOSE_BUILD_CONSTRAINTS = $(COMPOSE_VENV)/build-constraints.txt

# Rebuilt from scratch whenever the lock (or this recipe) changes, so nothing dropped from
# the lock lingers in the virtualenv.
$(COMPOSE_VENV)/.installed: $(COMPOSE_LOCK) $(COMPOSE_MK)
	rm -rf $(COMPOSE_VENV)
	$(PYTHON) -m venv $(COMPOSE_VENV)
	printf 'cython<3\n' > $(COMPOSE_BUILD_CONSTRAINTS)
	PIP_CONSTRAINT=$(abspath $(COMPOSE_BUILD_CONSTRAINTS)) \
		$(COMPOSE_VENV)/bin/python -m pip install --quiet --no-deps -r $(COMPOSE_LOCK)
	$(COMPOSE_VENV)/bin/python -m pip check
	$(COMPOSE_VENV)/bin/docker-compose version
	touch $@

# Relock after editing requirements-compose.in.
.PHONY: compose-lock
compose-lock:
	$(UV) pip compile $(COMPOSE_IN) --python-version 3.11 --quiet -o $(COMPOSE_LOCK)

# Validate docker-compose.yml against the placeholder secrets of .env.example.
.PHONY: compose-config
compose-config: $(COMPOSE_VENV)/.installed
	$(COMPOSE_VENV)/bin/docker-compose -f docker-compose.yml --env-file .env.example config --quiet

ifeq ($(firstword $(MAKEFILE_LIST)),$(COMPOSE_MK))
# Run on its own (make -f mk/compose.mk): build the virtualenv.
.DEFAULT_GOAL := $(COMPOSE_VENV)/.installed
else
.DEFAULT_GOAL := $(_compose_default_goal)
endif
