# The scale-out benchmark (included by the Makefile): a million items imported and exported on a
# throwaway PostgreSQL, next + submit with 1 and 2 server processes, embedding in one process and
# on Ray. About 10-15 minutes on 2 cores.
.PHONY: bench-scale
## Benchmark scale-out: 1M items on PostgreSQL, 2 API processes, Ray (prints a table, then JSON).
bench-scale: $(STAMP)
	bash scripts/with-postgres.sh bash -c '$(PY) bench/scale.py --database-url "$$LABELLOOP_TEST_DATABASE_URL"'

.PHONY: bench-scale-import-next
## Benchmark the next task while a 1M-item import runs on PostgreSQL (one transaction).
bench-scale-import-next: $(STAMP)
	bash scripts/with-postgres.sh bash -c '$(PY) bench/scale_import_next.py --database-url "$$LABELLOOP_TEST_DATABASE_URL"'
