# Personal-data benchmark (included by the Makefile): precision and recall per kind of
# labelloop.privacy on a generated corpus with known spans (Faker en_US, fr_FR, de_DE) and on a
# hand-written held-out set, and the pattern detectors' throughput. Needs the pii-ner extra (spaCy and
# its two small models). A few minutes on two cores.
.PHONY: bench-pii
## Personal data: precision and recall per kind (checksummed, e-mail/phone, names), items/s (table, then JSON).
bench-pii: $(STAMP)
	$(PY) bench/pii.py
