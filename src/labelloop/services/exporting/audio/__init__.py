"""Exports of audio datasets: NeMo manifests, SRT, WebVTT and RTTM, streamed as a zip with the audio
files (docs/audio.md, "Formats")."""
