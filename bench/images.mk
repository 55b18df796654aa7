# Images benchmark (included by the Makefile): box aggregation on real crowd answers against expert
# boxes, its sensitivity to each setting, one million boxes, and the canvas and first image timed in
# Debian's Chromium (hence the built web app and scripts/test-deps.sh, as bench-web). A few minutes.
.PHONY: bench-images
## Images: box quality control on real pedestrians (F1 vs naive and one worker), 1M boxes, canvas frame time and first image (table, then JSON).
bench-images: $(STAMP) $(WEB_DIST)
	bash scripts/test-deps.sh
	$(PY) bench/images.py
