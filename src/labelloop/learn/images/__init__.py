"""Image models: images in (:mod:`labelloop.learn.images.inputs`), boxes, vectors and masks out.

- :mod:`~labelloop.learn.images.detector`: the :class:`Detector` interface and the offline COCO detector;
- :mod:`~labelloop.learn.images.embeddings`: EfficientNet-Lite3 image embeddings;
- :mod:`~labelloop.learn.images.features`: hand-made features of small images (no neural network);
- :mod:`~labelloop.learn.images.grabcut`: interactive masks with GrabCut.

The public names are imported from :mod:`labelloop.learn`.
"""
