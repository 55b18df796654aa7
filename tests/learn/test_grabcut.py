"""Interactive masks with GrabCut: a disc on a textured background, from a box or from scribbles."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from labelloop.learn import grabcut_mask
from tests.learn.image_models import require_image_models


def disc_image(n: int = 512, r: int = 120, cx: int = 260, cy: int = 240, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A reddish noisy disc on a striped, noisy background: the image and the disc's exact mask."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:n, :n]
    background = rng.integers(0, 256, (n, n, 3)) * 0.5 + 60 * np.sin(xx / 7.0)[..., None] + 100
    disc = (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r
    img = background.copy()
    img[disc] = np.array([200, 40, 40]) + rng.normal(0, 15, (int(disc.sum()), 3))
    return img.clip(0, 255).astype(np.uint8), disc


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


@pytest.fixture(autouse=True)
def _extra() -> None:
    require_image_models()


@pytest.mark.parametrize("work_size", [128, 320, 512])
def test_a_box_around_the_disc_gives_the_disc(work_size: int) -> None:
    img, disc = disc_image()
    box = [130.0, 110.0, 390.0, 370.0]
    mask = grabcut_mask(img, box=box, work_size=work_size)
    assert mask.shape == disc.shape and mask.dtype == bool
    assert iou(mask, disc) > 0.9
    assert not mask[:110].any() and not mask[370:].any() and not mask[:, :130].any() and not mask[:, 390:].any()


def test_scribbles_alone_find_the_disc_and_are_obeyed() -> None:
    img, disc = disc_image(seed=1)
    fg = [[260, 240], [300, 260]]
    bg = [[20, 20], [500, 500], [200, 180]]  # the last one is inside the disc: the user said no
    mask = grabcut_mask(img, foreground=fg, background=bg, brush_radius=4)
    assert iou(mask, disc) > 0.9
    assert mask[240, 260] and mask[260, 300]
    assert not mask[180, 200] and not mask[20, 20] and not mask[500, 500]


def test_a_box_with_scribbles_cuts_what_the_box_alone_keeps() -> None:
    img, disc = disc_image(seed=2)
    # A second, blue disc inside the box: the box keeps it, a background scribble removes it.
    yy, xx = np.mgrid[:512, :512]
    blue = (xx - 360) ** 2 + (yy - 360) ** 2 <= 20**2
    img[blue] = [40, 40, 220]
    box = [130, 110, 400, 400]
    both = grabcut_mask(img, box=box)
    stroke = [[x, 360] for x in range(342, 380, 3)]  # a brush stroke across it, a point every 3 px
    only = grabcut_mask(img, box=box, background=stroke, brush_radius=6)
    assert both[blue].mean() > 0.5
    assert only[blue].mean() < 0.1 and iou(only, disc) > 0.9


def test_a_large_photo_is_cut_coarse_then_refined_at_full_size() -> None:
    small, small_disc = disc_image(n=256, r=60, cx=130, cy=120)
    img = np.ascontiguousarray(np.kron(small, np.ones((8, 8, 1), dtype=np.uint8)))  # 2048 x 2048
    disc = np.kron(small_disc, np.ones((8, 8), dtype=bool))
    box = [65 * 8, 55 * 8, 195 * 8, 185 * 8]
    refined = grabcut_mask(img, box=box, work_size=256)
    assert iou(refined, disc) > 0.95
    shrunk = grabcut_mask(img, box=box, work_size=256, max_refine_pixels=200_000)  # refine at a smaller scale
    assert iou(shrunk, disc) > 0.9
    coarse = grabcut_mask(img, box=box, work_size=256, refine_iterations=0)
    assert iou(coarse, disc) > 0.9


def test_file_bytes_are_accepted() -> None:
    img, _ = disc_image(seed=3)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    from_bytes = grabcut_mask(buf.getvalue(), box=[130, 110, 390, 370])
    assert np.array_equal(from_bytes, grabcut_mask(img, box=[130, 110, 390, 370]))


def test_a_prompt_that_cannot_work_is_refused_by_name() -> None:
    img, _ = disc_image(n=64, r=10, cx=30, cy=30)
    with pytest.raises(ValueError, match="box or at least one foreground point"):
        grabcut_mask(img, background=[[1, 1]])
    with pytest.raises(ValueError, match="x1 < x2"):
        grabcut_mask(img, box=[40, 10, 20, 50])
    with pytest.raises(ValueError, match="overlap"):
        grabcut_mask(img, box=[100, 100, 120, 120])
    with pytest.raises(ValueError, match=r"foreground\[1\]"):
        grabcut_mask(img, foreground=[[3, 3], [70, 3]])
    with pytest.raises(ValueError, match="four finite"):
        grabcut_mask(img, box=[0, 0, float("nan"), 5])
    # A box over the whole image still leaves the cut something to learn the background from.
    whole = grabcut_mask(img, box=[0, 0, 64, 64])
    assert whole.shape == (64, 64)
