# The curation benchmark (included by the Makefile): near-duplicate recall and precision on the demo
# corpus with planted edits, near-duplicates in a million texts, a release of a million items.
.PHONY: bench-curation
## Benchmark curation: near-duplicates, a release of 1M items (prints a table, then JSON).
bench-curation: $(STAMP)
	$(PY) bench/curation.py
