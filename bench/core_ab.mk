# The core benchmark as an A/B (included by the Makefile): this checkout against AB_REV, the two
# served alternately in one run (bench/core_ab.py), e.g. make bench-core-ab AB_REV=138aa53.
AB_REV ?= HEAD
.PHONY: bench-core-ab
## Benchmark the core paths against another commit, alternately (AB_REV=..., default HEAD).
bench-core-ab: $(STAMP)
	$(PY) bench/core.py --ab $(AB_REV)
