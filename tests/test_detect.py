"""The detector's geometry, targets, decoding and metrics against hand-computed values."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch

from anpr_ocr.detector.measures import average_precision, corner_error, end_to_end, score_photos
from anpr_ocr.detector.net import (
    Detection,
    PlateDetector,
    box_ios,
    box_iou,
    corners_at,
    corners_to_box,
    cut_plate,
    decode,
    detect_batch,
    drop_nested,
    encode_targets,
    focal_loss,
    fuse_for_inference,
    letterbox,
    merge_passes,
    peaks,
    plate_size,
    to_tensor,
    unletterbox,
)

QUAD = np.array([[10.0, 20.0], [50.0, 18.0], [52.0, 40.0], [8.0, 42.0]])


def test_corners_to_box():
    assert corners_to_box(QUAD) == (8.0, 18.0, 52.0, 42.0)
    assert corners_to_box(QUAD[[2, 0, 3, 1]]) == (8.0, 18.0, 52.0, 42.0)  # whatever the corners' order


def test_plate_size_takes_the_longer_edges():
    # top edge 40.05 (40, -2), bottom 44 (from (52,40) to (8,42): 44.05), left 22.09, right 22.02
    width, height = plate_size(QUAD)
    assert width == pytest.approx(math.hypot(44, 2))
    assert height == pytest.approx(math.hypot(2, 22))


def test_box_iou_by_hand():
    assert box_iou((0, 0, 10, 10), (5, 0, 15, 10)) == pytest.approx(50 / 150)
    assert box_iou((0, 0, 10, 10), (10, 0, 20, 10)) == 0.0


def test_cut_plate_is_the_training_crop_geometry():
    """An upright 100x50 plate at (20, 10): the cut is 112x66 (margins 6 px and 8 px), a pure shift."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (100, 160), dtype=np.uint8)
    corners = np.array([[20, 10], [120, 10], [120, 60], [20, 60]], float)
    crop = cut_plate(image, corners)
    assert crop.shape == (66, 112)
    # crop (x, y) shows image (x + 20 - 6, y + 10 - 8)
    np.testing.assert_array_equal(crop[:, :], image[2:68, 14:126])


def test_cut_plate_undoes_a_rotation():
    rng = np.random.default_rng(1)
    plate = cv2.resize(rng.integers(0, 256, (10, 40), dtype=np.uint8), (200, 50), interpolation=cv2.INTER_NEAREST)
    plate = cv2.GaussianBlur(plate, (0, 0), 2)
    angle = np.deg2rad(10)
    rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    src = np.array([[0, 0], [200, 0], [200, 50], [0, 50]], float)
    dst = src @ rot.T + [60, 40]
    photo = cv2.warpPerspective(plate, cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32)),
                                (340, 200))
    crop = cut_plate(photo, dst, 0.0, 0.0)
    assert crop.shape == (50, 200)
    inner = (slice(5, 45), slice(5, 195))
    assert np.corrcoef(crop[inner].ravel(), plate[inner].ravel())[0, 1] > 0.99


def test_letterbox_and_back():
    grey = np.full((200, 300), 7, np.uint8)
    boxed = letterbox(grey, 512)
    assert boxed.scale == pytest.approx(512 / 300)
    assert boxed.image.shape == (352, 512)  # 341 rows padded to a multiple of 32
    assert boxed.image[340, 0] == 7 and boxed.image[341, 0] == 0
    points = np.array([[0.0, 0.0], [300.0, 200.0], [123.4, 56.7]])
    np.testing.assert_allclose(unletterbox(points * boxed.scale, boxed.scale), points)


def test_targets_decode_back_to_the_corners():
    plates = [np.array([[40.0, 60.0], [200.0, 52.0], [204.0, 92.0], [42.0, 100.0]]),
              np.array([[250.0, 200.0], [330.0, 205.0], [329.0, 225.0], [251.0, 221.0]])]
    heat, offsets, mask = encode_targets(plates, 320, 384)
    assert heat.shape == (1, 40, 48) and offsets.shape == (8, 40, 48)
    assert (heat == 1).sum() == 2 and mask.sum() >= 2
    found = decode(heat[0], offsets, threshold=0.5)
    assert len(found) == 2
    for det in found:
        truth = min(plates, key=lambda p: np.abs(p - det.corners).sum())
        np.testing.assert_allclose(det.corners, truth, atol=1e-4)
        assert det.box == pytest.approx(corners_to_box(truth))
        assert det.score == 1.0


def test_decode_drops_duplicates_and_low_peaks():
    heat = np.zeros((10, 10), np.float32)
    heat[3, 3], heat[3, 5], heat[8, 8] = 0.9, 0.8, 0.2  # two peaks of one plate, one weak peak
    offsets = np.zeros((8, 10, 10), np.float32)
    # a 4x1-cell plate about cell (3, 3), and the same plate seen from cell (3, 5) (in cells / OFFSET_SCALE 4)
    offsets[:, 3, 3] = np.array([-2, -0.5, 2, -0.5, 2, 0.5, -2, 0.5]) / 4
    offsets[:, 3, 5] = np.array([-4, -0.5, 0, -0.5, 0, 0.5, -4, 0.5]) / 4
    found = decode(heat, offsets, threshold=0.3)
    assert [d.score for d in found] == [pytest.approx(0.9)]
    # cell (3, 3) is centred on pixel (28, 28); 2 cells are 16 px, half a cell 4 px
    np.testing.assert_allclose(found[0].corners, [[12, 24], [44, 24], [44, 32], [12, 32]])


def test_peaks_are_the_local_maxima_a_scan_of_every_cell_finds():
    rng = np.random.default_rng(0)
    heat = rng.random((9, 13)).astype(np.float32)
    heat[4, 6] = heat[4, 7] = 0.99  # a plateau: both cells are maxima of their 3x3 neighbourhoods
    expected = [(y, x) for y in range(9) for x in range(13)
                if heat[y, x] > 0.5 and heat[y, x] >= heat[max(y - 1, 0):y + 2, max(x - 1, 0):x + 2].max()]
    expected.sort(key=lambda c: -heat[c])  # best first, ties in row-major order (a stable sort)
    ys, xs = peaks(heat, 0.5)
    assert list(zip(ys.tolist(), xs.tolist())) == expected and (4, 6) in expected and (4, 7) in expected
    assert [len(v) for v in peaks(heat, 0.5, top_k=2)] == [2, 2] and [len(v) for v in peaks(heat, 1.0)] == [0, 0]


@pytest.mark.parametrize("fused", [False, True])
def test_the_corner_head_at_a_few_cells_is_the_head_over_the_whole_grid(fused):
    torch.manual_seed(0)
    model = PlateDetector()
    for module in model.modules():  # BatchNorm statistics away from their defaults, so folding them counts
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
    model.eval()
    model = fuse_for_inference(model) if fused else model
    x = torch.rand(1, 1, 96, 128) * 2 - 1
    with torch.no_grad():
        heat, offsets = model(x)
        heat2, features = model.locate(x)
    torch.testing.assert_close(heat2, heat)
    ys, xs = np.array([0, 5, 11, 11]), np.array([0, 7, 15, 3])  # corners and edges of the 12x16 grid, and inside
    got = corners_at(model.corners, features[0].numpy(), ys, xs)
    np.testing.assert_allclose(got, offsets[0].numpy()[:, ys, xs].T, atol=1e-5)
    assert corners_at(model.corners, features[0].numpy(), ys[:0], xs[:0]).shape == (0, 8)


def test_detections_are_decode_of_the_whole_grid_on_a_real_photo(photos_root):
    from anpr_ocr.detector.checkpoint import load_plate_detector
    from anpr_ocr.detector.photos import load_photos
    from anpr_ocr.pipeline.read import default_detector

    model, _ = load_plate_detector(default_detector(), "torch")
    photo = load_photos(photos_root / "val")[0]
    boxed = letterbox(photo.grey, model.config.input_size)
    with torch.no_grad():
        heat, offsets = model(to_tensor([boxed.image]))
    whole = decode(torch.sigmoid(heat[0, 0]).numpy(), offsets[0].numpy(), 0.3)
    found = detect_batch(model, [photo.grey], 0.3)[0]
    assert len(found) == len(whole) >= 1
    for d, w in zip(found, whole):
        np.testing.assert_allclose(d.corners, unletterbox(w.corners, boxed.scale), atol=1e-3)
        assert d.score == pytest.approx(w.score)


def _at(x0: float, y0: float, x1: float, y1: float, score: float) -> Detection:
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)
    return Detection(corners, corners_to_box(corners), score)


def test_a_second_pass_adds_only_the_plates_the_first_missed_best_first():
    first = [_at(0, 0, 100, 20, 0.9)]
    again = _at(2, 0, 100, 20, 0.99)  # IoU 0.98 with the first pass's plate: the same plate
    new = _at(300, 300, 360, 315, 0.95)
    merged = merge_passes(first, [again, new])
    assert [d.score for d in merged] == [0.95, 0.9]
    assert merge_passes(first, []) == first and merge_passes([], [new]) == [new]


def test_box_ios_by_hand():
    assert box_ios((0, 0, 10, 10), (2, 2, 4, 4)) == 1.0  # inside
    assert box_ios((0, 0, 10, 10), (5, 0, 15, 20)) == pytest.approx(50 / 100)  # half of the smaller box
    assert box_ios((0, 0, 10, 10), (10, 0, 20, 10)) == 0.0 and box_ios((0, 0, 0, 10), (0, 0, 5, 5)) == 0.0


def test_a_detection_nested_in_a_better_one_is_dropped():
    plate = _at(0, 0, 100, 20, 0.9)
    inside = _at(10, 2, 60, 18, 0.8)  # IoU 0.4, but wholly inside a better one: the same plate again
    around = _at(-20, -5, 120, 25, 0.95)  # the better one holds the plate's box: the plate's is dropped
    beside = _at(100, 0, 200, 20, 0.5)  # touching, not overlapping: another plate
    assert [d.score for d in drop_nested([plate, inside, beside])] == [0.9, 0.5]
    assert [d.score for d in drop_nested([plate, around, beside])] == [0.95, 0.5]
    assert drop_nested([]) == []


class _SizeRecorder:
    """Used like a detector; records each input's (height, width) and finds nothing."""

    config = SimpleNamespace(input_size=640)
    corners = PlateDetector().corners

    def __init__(self):
        self.inputs = []

    def eval(self):
        return self

    def locate(self, x):
        self.inputs.append(tuple(x.shape[2:]))
        h, w = x.shape[2] // 8, x.shape[3] // 8
        return torch.full((1, 1, h, w), -10.0), torch.zeros(1, 32, h, w)


@pytest.mark.parametrize("side, over, inputs", [
    (1024, 1024, [(640, 640)]),  # not over: one pass
    (1100, 1024, [(640, 640), (1120, 1120)]),  # a second pass at its own side (padded to a multiple of 32)
    (3000, 1024, [(640, 640), (1280, 1280)]),  # at twice the input size
    (3000, None, [(640, 640)]),  # never
])
def test_photos_over_the_side_get_a_second_pass_at_up_to_twice_the_input(side, over, inputs):
    model = _SizeRecorder()
    assert detect_batch(model, [np.zeros((side, side), np.uint8)], 0.3, over) == [[]]
    assert model.inputs == inputs


def test_focal_loss_rewards_the_right_heatmap():
    target = torch.zeros(1, 1, 8, 8)
    target[0, 0, 4, 4] = 1.0
    good = torch.full((1, 1, 8, 8), -6.0)
    good[0, 0, 4, 4] = 6.0
    assert focal_loss(good, target) < 0.01 < focal_loss(-good, target)


def test_detector_shapes_and_fusing_keep_outputs():
    torch.manual_seed(0)
    model = PlateDetector().eval()
    x = torch.randn(1, 1, 96, 128)
    with torch.no_grad():
        heat, offsets = model(x)
        assert heat.shape == (1, 1, 12, 16) and offsets.shape == (1, 8, 12, 16)
        fused = fuse_for_inference(model)
        heat2, offsets2 = fused(x)
    torch.testing.assert_close(heat2, heat, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(offsets2, offsets, atol=1e-4, rtol=1e-4)


def test_average_precision_by_hand():
    truths = [[(0, 0, 10, 10), (20, 0, 30, 10)], [(0, 0, 10, 10)]]
    detections = [[((0, 0, 10, 10), 0.9), ((50, 50, 60, 60), 0.8), ((20, 0, 30, 10), 0.7)], []]
    # ranked: TP (p 1, r 1/3), FP (p 1/2), TP (p 2/3, r 2/3); the third plate is never found
    assert average_precision(detections, truths, 0.5) == pytest.approx(1 / 3 + 1 / 3 * 2 / 3)
    # a duplicate of a found plate is a false positive
    dup = [[((0, 0, 10, 10), 0.9), ((0, 0, 10, 10), 0.8)], [((0, 0, 10, 10), 0.5)]]
    assert average_precision(dup, truths, 0.5) == pytest.approx(1 / 3 + 1 / 3 * 2 / 3)
    shifted = [[((0, 0, 10, 12), 0.9)], []]  # IoU 10/12: a hit at 0.5 and at 0.75, not at 0.9
    assert average_precision(shifted, truths, 0.75) == pytest.approx(1 / 3)
    assert average_precision(shifted, truths, 0.9) == 0.0


def test_corner_error_and_end_to_end_by_hand():
    truth = np.array([[0, 0], [40, 0], [40, 10], [0, 10]], float)
    det = truth + [[3, 4], [0, 0], [0, 0], [0, 0]]  # one corner 5 px off
    assert corner_error([[det]], [[truth]]) == pytest.approx(5 / 4)
    assert math.isnan(corner_error([[]], [[truth]]))
    truths = [[((0, 0, 40, 10), "A123BC77")], [((0, 0, 40, 10), "B456EK99")]]
    readings = [[((1, 0, 40, 10), "A123BC77"), ((100, 100, 140, 110), "X000XX00")], [((0, 0, 40, 10), "B456EK98")]]
    scores = end_to_end(readings, truths)
    assert (scores["found"], scores["read"], scores["extra"]) == (2, 1, 1)
    assert scores["read_rate"] == 0.5 and scores["extra_per_photo"] == 0.5


def test_score_photos_counts_found_on_the_detections_before_the_floor():
    """A plate the detector found but whose reading the confidence floor dropped is found, not read."""
    plate = SimpleNamespace(box=(0, 0, 40, 10), text="A123BC77", corners=np.array([[0, 0], [40, 0], [40, 10], [0, 10]]))
    photos = [SimpleNamespace(plates=[plate])]
    reading = SimpleNamespace(box=(0, 0, 40, 10), text="A123BC78", corners=plate.corners)
    assert score_photos(photos, [[]])["found"] == 0
    scores = score_photos(photos, [[]], detections=[[reading]])
    assert (scores["found"], scores["reported"], scores["read"], scores["extra"]) == (1, 0, 0, 0)
    assert score_photos(photos, [[reading]])["found"] == score_photos(photos, [[reading]])["reported"] == 1


def test_cut_matches_the_shipped_vkcv_crops(photos_root, data_root):
    """Cutting along the annotated corners gives the shipped crops: same aspect, same content."""
    coco = json.loads((photos_root / "train" / "annotations.json").read_text())
    files = {im["id"]: im["file_name"] for im in coco["images"]}
    for a in coco["annotations"][:8]:
        photo = cv2.imread(str(photos_root / "train" / files[a["image_id"]]), cv2.IMREAD_GRAYSCALE)
        shipped = cv2.imread(str(data_root / "train" / "img" / f"{a['crop']}.png"), cv2.IMREAD_GRAYSCALE)
        cut = cut_plate(photo, np.array(a["keypoints"], float).reshape(4, 3)[:, :2])
        # the photos were shrunk to 1024 px after the crops were cut: compare aspect and content
        assert cut.shape[1] / cut.shape[0] == pytest.approx(shipped.shape[1] / shipped.shape[0], rel=0.05)
        resized = cv2.resize(cut, shipped.shape[::-1], interpolation=cv2.INTER_AREA)
        assert np.corrcoef(resized.ravel(), shipped.ravel())[0, 1] > 0.9, a["crop"]


def test_one_cycle_schedule_by_hand():
    from anpr_ocr.train.detector import one_cycle

    assert one_cycle(0.0, 1.0) == pytest.approx(1 / 25)
    assert one_cycle(0.05, 1.0) == pytest.approx(1 / 25 + (1 - 1 / 25) / 2)  # half way up the warm-up
    assert one_cycle(0.1, 1.0) == pytest.approx(1.0)
    assert one_cycle(0.55, 1.0) == pytest.approx(1 / 25e4 + (1 - 1 / 25e4) / 2)  # half way down
    assert one_cycle(1.0, 1.0) == pytest.approx(1 / 25e4)


def test_a_finished_run_resumed_trains_nothing_more(tmp_path, font_path, texts_path):
    """resume=True on a finished run of the same recipe returns its best.pth and history untouched; the
    resume flag itself is not part of the recipe."""
    from anpr_ocr.detector.net import DetectorConfig
    from anpr_ocr.train.detector import DetectConfig, fit_detector
    from anpr_ocr.train.scenes import synthetic_photos
    from anpr_ocr.train.synth import PlateRenderer, SynthConfig

    synth = SynthConfig(font_path=str(font_path), texts_path=str(texts_path))
    photos = synthetic_photos(PlateRenderer(synth), 3, seed=0)
    config = DetectConfig(out_dir=str(tmp_path / "run"), model=DetectorConfig(input_size=128, widths=(4, 4, 8, 8, 8),
                          fpn=8), synth=synth, epochs=1, minutes=None, crops_per_epoch=4, crop_size=64,
                          paste_prob=0.0, batch_size=4, num_workers=0)
    first = fit_detector(config, photos[:2], photos[2:])
    saved = first.best_path.read_bytes()
    again = fit_detector(replace(config, resume=True), photos[:2], photos[2:])
    assert json.dumps(again.history) == json.dumps(first.history) and len(again.history) == 1  # NaN-safe
    assert again.best_path.read_bytes() == saved


def test_load_photos_with_a_limit_reads_the_first_photos_only(photos_root):
    from anpr_ocr.detector.photos import load_photos

    every = load_photos(photos_root / "val")
    first = load_photos(photos_root / "val", limit=3)
    assert len(every) > 3 and [p.name for p in first] == [p.name for p in every[:3]]
    for a, b in zip(first, every):
        assert np.array_equal(a.grey, b.grey) and a.plates[0].text == b.plates[0].text
