# Audio benchmark (included by the Makefile): transcript aggregation on real crowd transcripts
# (CrowdSpeech dev-clean/dev-other) against crowd-kit's ROVER, which runs in bench-quality's oracle
# virtualenv (built by bench/quality.mk's rule), its sensitivity to each setting, a simulated crowd.
# Then Whisper tiny.en on espeak-ng speech of known text, and Chromium opening a one-hour file's
# waveform (scripts/test-deps.sh installs chromium and espeak-ng). About ten minutes.
ORACLE_VENV ?= .venv-oracle
AUDIO_ORACLE_PY := $(ORACLE_VENV)/bin/python
.PHONY: bench-audio
## Audio: transcript WER vs crowd-kit's ROVER on CrowdSpeech, aggregation time, sensitivity, Whisper WER and speed, waveform open time (table, then JSON).
bench-audio: $(STAMP) $(WEB_DIST) $(AUDIO_ORACLE_PY)
	bash scripts/test-deps.sh
	$(VENV)/bin/python bench/audio.py --oracle-python $(AUDIO_ORACLE_PY)
