# Encryption at rest (included by the Makefile): import items/s and blob serving with and without a
# key, in process on SQLite (docs/data-protection.md, "Cost"). About a minute on two cores.
.PHONY: bench-encryption
## Encryption at rest: import and blob-serving throughput, plain vs encrypted (table, then JSON).
bench-encryption: $(STAMP)
	$(PY) bench/encryption.py
