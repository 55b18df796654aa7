"""Labels on a video: tracks and per-frame boxes (`video_tracks`), events on its timeline
(`video_segments`), with the interpolation, split and merge of tracks (docs/video.md)."""
