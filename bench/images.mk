# Images benchmark (included by the Makefile): box aggregation on real crowd answers against expert
# boxes, its sensitivity to each setting, and one million boxes. A few minutes.
.PHONY: bench-images
## Images: box quality control on real pedestrians (F1 vs naive and one worker), 1M boxes (table, then JSON).
bench-images: $(STAMP)
	$(PY) bench/images.py
