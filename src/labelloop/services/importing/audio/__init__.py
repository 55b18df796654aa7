"""Audio at import: each audio file probed and stored (files.py, over `services/audio/`), and audio
datasets with their segments, NeMo manifests, SRT, WebVTT or RTTM (datasets.py and one module per
format), or segments attached to audio items already in the project (attach.py; docs/audio.md)."""
