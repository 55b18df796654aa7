"""Audio files at import: probed and decoded once with PyAV (FFmpeg), their waveform peaks made
on the way (docs/audio.md)."""
