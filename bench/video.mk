# Video benchmark (included by the Makefile): import probe time, the keyframes a simulated annotator
# needs with interpolation and with the tracker, fused tracks against the truth, and Chromium's
# frame accuracy and seek time (scripts/test-deps.sh installs chromium). The 10-minute 1080p test
# video is made once and kept in bench/results/cache/.
.PHONY: bench-video
## Video: frame accuracy and seek time in Chromium, keyframes per frame, tracker saving, track agreement, probe time (table, then JSON).
bench-video: $(STAMP) $(WEB_DIST)
	bash scripts/test-deps.sh
	$(VENV)/bin/python bench/video.py
