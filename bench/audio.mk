# Audio benchmark (included by the Makefile): transcript aggregation on real crowd transcripts
# (CrowdSpeech dev-clean/dev-other) against crowd-kit's ROVER, which runs in bench-quality's oracle
# virtualenv (built by bench/quality.mk's rule), its sensitivity to each setting, a simulated crowd.
# A few minutes. Further measurements (Chromium, Whisper) are functions in bench/audio.py.
ORACLE_VENV ?= .venv-oracle
AUDIO_ORACLE_PY := $(ORACLE_VENV)/bin/python
.PHONY: bench-audio
## Audio: transcript WER vs crowd-kit's ROVER on CrowdSpeech, aggregation time, sensitivity (table, then JSON).
bench-audio: $(STAMP) $(AUDIO_ORACLE_PY)
	$(VENV)/bin/python bench/audio.py --oracle-python $(AUDIO_ORACLE_PY)
