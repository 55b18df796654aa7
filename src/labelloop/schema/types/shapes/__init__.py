"""Shapes on an image: boxes, rotated boxes, polygons, polylines, keypoints, masks."""
