"""Exports of video datasets: MOT Challenge `gt.txt`, CVAT for video 1.1 XML, a YouTube-VIS-like
JSON and per-frame JPEGs with YOLO labels, streamed as a zip with the video files (docs/video.md,
"Formats")."""
