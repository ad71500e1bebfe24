"""Plate detector: a small fully convolutional net that finds each plate's centre and four corners.

A grey photo is scaled so its longer side is `DetectorConfig.input_size` px and padded on the right
and bottom to a multiple of 32 (`letterbox`). The net (BN+ReLU 3x3 convs down to stride 32, a light
FPN back up to stride 8) predicts, on a grid of 8x8-px cells:
- a plate-centre heatmap (one channel, trained with CenterNet's focal loss on Gaussians sized by
  the plate), and
- the four corners as offsets from the cell (8 channels: top-left, top-right, bottom-right,
  bottom-left, x then y, in cells divided by `OFFSET_SCALE`), trained with L1 on the cells near
  each centre, weighted by their Gaussian.
The two heads are separate 3x3 conv + 1x1 branches over the shared stride-8 features.
Decoding is numpy: 3x3 max-pool peaks over a threshold, corners = cell + offsets, box = the
corners' bounding box, an IoU suppression of duplicates, then back to input pixels (`unletterbox`).
Inference runs the net up to the features and the heatmap (`PlateDetector.locate`) and the corner head
at the few peaks only (`corners_at`): the same corners, a tenth less work a photo.

Large photos are read twice (`detect_batch`): the net trained on photos of at most 1,024 px, whose plates
are 30-200 px wide in its 640 px input. In a photo of 2,000 px a plate of 66 px is 21 px there, and missed;
a second pass at twice the input size shows it at the scale the net knows, while the first pass still finds
the large plates of close-ups, which a larger input alone loses (docs/experiments.md).

Why a keypoint design: the annotations give four corners, and the reader wants the plate cut along
them (`cut_plate`, with the margins the training crops were cut with), so corners are the target,
not a box. Why grey: the reader reads grey, and one channel keeps the stem cheap.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import NamedTuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

STRIDE = 8  # input pixels per output cell
OFFSET_SCALE = 4.0  # corner offsets are predicted in cells / OFFSET_SCALE
PAD_MULTIPLE = 32  # the net's total stride: inputs are padded to a multiple of it
SECOND_PASS_OVER = 1024  # px: photos with a longer side over this are read twice (module docstring, `detect_batch`)
PEAK_THRESHOLD = 0.3  # heatmap score a peak needs, where the caller gives none (read_plates gives the detector's own)
TOP_K = 20  # peaks decoded a photo at most
NMS_IOU = 0.5  # box overlap over which the weaker of two detections is dropped
MARGIN_X, MARGIN_Y = 0.06, 0.16  # crop margins of the VKCV training crops (of the plate's width, height)


# ---- geometry ---------------------------------------------------------------------------------
def corners_to_box(corners: np.ndarray) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1): the axis-aligned box around four (x, y) corners."""
    c = np.asarray(corners, np.float64).reshape(-1, 2)
    x0, y0 = c.min(0)
    x1, y1 = c.max(0)
    return float(x0), float(y0), float(x1), float(y1)


def box_iou(a: tuple | np.ndarray, b: tuple | np.ndarray) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes (0 when either is empty)."""
    inter = _intersection(a, b)
    if inter == 0:
        return 0.0
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return float(inter / union) if union > 0 else 0.0


def box_ios(a: tuple | np.ndarray, b: tuple | np.ndarray) -> float:
    """Intersection of two (x0, y0, x1, y1) boxes over the smaller one's area: 1 when one lies inside the other
    (0 when either is empty)."""
    inter = _intersection(a, b)
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return float(inter / smaller) if inter > 0 and smaller > 0 else 0.0


def _intersection(a: tuple | np.ndarray, b: tuple | np.ndarray) -> float:
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    return iw * ih if iw > 0 and ih > 0 else 0


def plate_size(corners: np.ndarray) -> tuple[float, float]:
    """(width, height) of a plate: its longer horizontal edge and its longer vertical edge."""
    tl, tr, br, bl = np.asarray(corners, np.float64).reshape(4, 2)
    width = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    height = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    return float(width), float(height)


def cut_plate(image: np.ndarray, corners: np.ndarray, margin_x: float = MARGIN_X,
              margin_y: float = MARGIN_Y) -> np.ndarray:
    """The plate warped upright from its four corners (TL, TR, BR, BL), with margins, as the VKCV crops
    were cut: width = longer horizontal edge, height = longer vertical edge, plus `margin_x` of the
    width on the left and right and `margin_y` of the height above and below."""
    width, height = plate_size(corners)
    mx, my = margin_x * width, margin_y * height
    out_w = max(2, int(round(width + 2 * mx)))
    out_h = max(2, int(round(height + 2 * my)))
    dst = np.array([[mx, my], [mx + width, my], [mx + width, my + height], [mx, my + height]], np.float32)
    matrix = cv2.getPerspectiveTransform(np.asarray(corners, np.float32).reshape(4, 2), dst)
    return cv2.warpPerspective(image, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


class Letterbox(NamedTuple):
    """How a photo became the net's input: input = photo * scale, then padded right and bottom."""

    image: np.ndarray  # (H, W) uint8, H and W multiples of PAD_MULTIPLE
    scale: float


def letterbox(grey: np.ndarray, size: int) -> Letterbox:
    """Scale a grey photo so its longer side is `size` px; pad right and bottom to a multiple of 32."""
    h, w = grey.shape[:2]
    scale = size / max(h, w)
    nw, nh = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(grey, (nw, nh), interpolation=interpolation)
    ph, pw = -(-nh // PAD_MULTIPLE) * PAD_MULTIPLE, -(-nw // PAD_MULTIPLE) * PAD_MULTIPLE
    out = np.zeros((ph, pw), np.uint8)
    out[:nh, :nw] = resized
    return Letterbox(out, scale)


def unletterbox(points: np.ndarray, scale: float) -> np.ndarray:
    """Points in the net's input pixels -> the photo's pixels (the padding sits right and bottom)."""
    return np.asarray(points, np.float64) / scale


def to_tensor(greys: list[np.ndarray]) -> torch.Tensor:
    """Equal-sized grey uint8 images -> (B, 1, H, W) float in [-1, 1], as training scales them (in place: a
    new array for each step cost ten times as much)."""
    x = np.stack(greys).astype(np.float32)
    x /= 127.5
    x -= 1.0
    return torch.from_numpy(x)[:, None]


# ---- targets and decoding -----------------------------------------------------------------------
def gaussian_sigmas(width: float, height: float) -> tuple[float, float]:
    """Heatmap Gaussian sigmas (x, y) in cells for a plate of this size in input pixels."""
    return max(0.8, width / STRIDE / 6), max(0.6, height / STRIDE / 6)


def encode_targets(plates: list[np.ndarray], height: int, width: int,
                   reg_threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Training targets on a (height/8, width/8) grid for plates given as (4, 2) corners in input px.

    Returns the heatmap (1, h, w) with a peak of 1 at each centre cell, the corner offsets (8, h, w)
    from each cell (cells / OFFSET_SCALE), and the regression weights (1, h, w): each cell's Gaussian
    where it exceeds `reg_threshold` (the plate owning the larger Gaussian wins), so the centre cell,
    the one decoding reads, weighs most."""
    h, w = height // STRIDE, width // STRIDE
    heat = np.zeros((h, w), np.float32)
    offsets = np.zeros((8, h, w), np.float32)
    mask = np.zeros((h, w), np.float32)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    cells = np.stack([xs, ys])  # (2, h, w) cell coordinates
    for corners in plates:
        c = np.asarray(corners, np.float32).reshape(4, 2) / STRIDE - 0.5  # in cell coordinates
        cx, cy = c.mean(0)
        ix, iy = int(round(cx)), int(round(cy))
        if not (0 <= ix < w and 0 <= iy < h):
            continue
        pw, ph = plate_size(corners)
        sx, sy = gaussian_sigmas(pw, ph)
        g = np.exp(-((xs - ix) ** 2) / (2 * sx * sx) - ((ys - iy) ** 2) / (2 * sy * sy)).astype(np.float32)
        g[iy, ix] = 1.0
        own = (g > reg_threshold) & (g > heat)
        heat = np.maximum(heat, g)
        for k in range(4):
            offsets[2 * k:2 * k + 2][:, own] = (c[k][:, None] - cells[:, own]) / OFFSET_SCALE
        mask[own] = g[own]
    return heat[None], offsets, mask[None]


class Detection(NamedTuple):
    corners: np.ndarray  # (4, 2) TL, TR, BR, BL in the coordinates decoded into
    box: tuple[float, float, float, float]
    score: float


def decode(heat: np.ndarray, offsets: np.ndarray, threshold: float = PEAK_THRESHOLD, top_k: int = TOP_K,
           nms_iou: float = NMS_IOU) -> list[Detection]:
    """Peaks of a (h, w) sigmoid heatmap and their (8, h, w) corner offsets -> detections in input px,
    best first: local 3x3 maxima over `threshold`, at most `top_k`, boxes overlapping a better one
    by more than `nms_iou` dropped."""
    ys, xs = peaks(heat, threshold, top_k)
    return detections(heat, ys, xs, offsets[:, ys, xs].T, nms_iou)


def peaks(heat: np.ndarray, threshold: float = PEAK_THRESHOLD, top_k: int = TOP_K) -> tuple[np.ndarray, np.ndarray]:
    """The cells (ys, xs) of a (h, w) heatmap that are local 3x3 maxima over `threshold`, the `top_k`
    highest, best first (ties in row-major order)."""
    heat = np.ascontiguousarray(heat, np.float64 if np.asarray(heat).dtype == np.float64 else np.float32)
    neighbourhood = cv2.dilate(heat, np.ones((3, 3), np.uint8))  # 3x3 max; the border never wins
    ys, xs = np.nonzero((heat >= neighbourhood) & (heat > threshold))
    order = np.argsort(-heat[ys, xs], kind="stable")[:top_k]
    return ys[order], xs[order]


def detections(heat: np.ndarray, ys: np.ndarray, xs: np.ndarray, offsets: np.ndarray,
               nms_iou: float = NMS_IOU) -> list[Detection]:
    """Detections in input px from peak cells (best first) and their (n, 8) corner offsets, boxes
    overlapping a better one by more than `nms_iou` dropped."""
    found: list[Detection] = []
    for y, x, rel in zip(ys, xs, np.asarray(offsets, np.float64).reshape(-1, 4, 2) * OFFSET_SCALE):
        corners = (np.array([x, y], np.float64) + rel + 0.5) * STRIDE
        box = corners_to_box(corners)
        if all(box_iou(box, d.box) <= nms_iou for d in found):
            found.append(Detection(corners, box, float(heat[y, x])))
    return found


def focal_loss(logits: torch.Tensor, target: torch.Tensor, alpha: float = 2.0, beta: float = 4.0) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss, summed and divided by the number of centre cells."""
    p = torch.sigmoid(logits.float()).clamp(1e-4, 1 - 1e-4)
    pos = target.eq(1).float()
    pos_loss = -torch.log(p) * (1 - p) ** alpha * pos
    neg_loss = -torch.log(1 - p) * p ** alpha * (1 - target) ** beta * (1 - pos)
    return (pos_loss.sum() + neg_loss.sum()) / pos.sum().clamp(min=1.0)


def offset_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """L1 of the corner offsets, averaged with the weights of `mask`."""
    return (F.l1_loss(pred.float(), target, reduction="none") * mask).sum() / (mask.sum() * 8).clamp(min=1.0)


# ---- the net ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class DetectorConfig:
    """Architecture and input size; stored in every detector checkpoint."""

    input_size: int = 640  # the photo's longer side in the net's input, px
    widths: tuple[int, ...] = (8, 16, 32, 64, 96)  # strides 2, 4, 8, 16, 32
    fpn: int = 32  # channels of the upsampling path and the head

    def to_dict(self) -> dict:
        """The config as plain JSON-ready values, as checkpoints store it."""
        d = asdict(self)
        d["widths"] = list(self.widths)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> DetectorConfig:
        """The config `to_dict` wrote."""
        return cls(**{**d, "widths": tuple(d["widths"])})


def _conv(c_in: int, c_out: int, stride: int = 1, k: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False), nn.BatchNorm2d(c_out),
                         nn.ReLU(inplace=True))


class PlateDetector(nn.Module):
    """(B, 1, H, W) float in [-1, 1], H and W multiples of 32 -> (heat logits (B, 1, H/8, W/8),
    corner offsets (B, 8, H/8, W/8)). Plain 3x3 convs throughout: on a CPU they run far faster
    per multiply than depthwise ones, and the stem has few channels where the maps are large."""

    def __init__(self, config: DetectorConfig | None = None):
        super().__init__()
        self.config = config = config or DetectorConfig()
        w, f = config.widths, config.fpn
        self.down8 = nn.Sequential(_conv(1, w[0], 2), _conv(w[0], w[1], 2), _conv(w[1], w[2], 2), _conv(w[2], w[2]))
        self.down16 = nn.Sequential(_conv(w[2], w[3], 2), _conv(w[3], w[3]))
        self.down32 = nn.Sequential(_conv(w[3], w[4], 2), _conv(w[4], w[4]))
        self.lateral = nn.ModuleList([_conv(c, f, k=1) for c in (w[2], w[3], w[4])])
        self.smooth = nn.ModuleList([_conv(f, f) for _ in range(2)])
        self.heat = nn.Sequential(_conv(f, f), nn.Conv2d(f, 1, 1))
        self.corners = nn.Sequential(_conv(f, f), nn.Conv2d(f, 8, 1))
        nn.init.constant_(self.heat[-1].bias, -2.19)  # sigmoid 0.1: CenterNet's start for rare positives

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Heat logits and corner offsets for a batch of photos."""
        heat, features = self.locate(x)
        return heat, self.corners(features)

    def locate(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(heat logits (B, 1, H/8, W/8), the stride-8 features (B, fpn, H/8, W/8) both heads read):
        inference reads the corner head at the heatmap's peaks only (`corners_at`)."""
        c8 = self.down8(x)
        c16 = self.down16(c8)
        c32 = self.down32(c16)
        p = self.lateral[2](c32)
        for feat, lateral, smooth in zip((c16, c8), (self.lateral[1], self.lateral[0]), self.smooth):
            # twice the size exactly (inputs are multiples of 32): a fixed scale, which ONNX Runtime runs
            # in its blocked channel layout where a size read off the features' shape it does not
            p = smooth(lateral(feat) + F.interpolate(p, scale_factor=2.0, mode="nearest"))
        return self.heat(p), p


def corners_at(head: nn.Sequential, features: np.ndarray, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
    """The corner head (`PlateDetector.corners`: a 3x3 conv, BatchNorm, ReLU, then a 1x1 conv) applied at
    the cells (ys, xs) of (C, h, w) features only: (n, 8), what `head(features)[:, ys, xs].T` gives, for the
    few cells decoding reads instead of the whole grid (the head is a tenth of the net's work)."""
    (conv, norm, _), out = head
    weight = conv.weight.detach().numpy().reshape(len(conv.weight), -1)
    bias = np.zeros(len(weight), np.float32) if conv.bias is None else conv.bias.detach().numpy()
    if isinstance(norm, nn.BatchNorm2d):  # an unfused (training) model: fold it here
        scale = (norm.weight / torch.sqrt(norm.running_var + norm.eps)).detach().numpy()
        weight, bias = weight * scale[:, None], (bias - norm.running_mean.numpy()) * scale + norm.bias.detach().numpy()
    patches = np.zeros((len(ys), features.shape[0], 3, 3), np.float32)  # zeros where the conv pads
    for i, (y, x) in enumerate(zip(ys, xs)):
        y0, x0 = max(y - 1, 0), max(x - 1, 0)
        window = features[:, y0:y + 2, x0:x + 2]
        patches[i, :, y0 - y + 1:y0 - y + 1 + window.shape[1], x0 - x + 1:x0 - x + 1 + window.shape[2]] = window
    hidden = np.maximum(patches.reshape(len(ys), weight.shape[1]) @ weight.T + bias, 0)
    return hidden @ out.weight.detach().numpy()[:, :, 0, 0].T + out.bias.detach().numpy()


def fuse_for_inference(model: PlateDetector) -> PlateDetector:
    """Fold every BatchNorm into the conv before it (eval mode): the same outputs, fewer passes."""
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    model.eval()
    for module in model.modules():
        if isinstance(module, nn.Sequential) and len(module) == 3 and isinstance(module[1], nn.BatchNorm2d):
            module[0] = fuse_conv_bn_eval(module[0], module[1])
            module[1] = nn.Identity()
    return model


@torch.inference_mode()
def detect_batch(model: PlateDetector, greys: list[np.ndarray], threshold: float = PEAK_THRESHOLD,
                 second_pass_over: int | None = SECOND_PASS_OVER) -> list[list[Detection]]:
    """Detections for grey photos, in each photo's own pixels, best first (one model call per photo). A photo
    whose longer side is over `second_pass_over` px is read a second time at up to twice the input size, and
    the plates only that second call finds are added (`merge_passes`; None: one pass always). `model`: a
    PlateDetector or what is called like one (`onnx_backend.OnnxDetector`)."""
    model.eval()
    size = model.config.input_size
    out: list[list[Detection]] = []
    for grey in greys:
        found = detect_one(model, grey, size, threshold)
        side = max(grey.shape[:2])
        if second_pass_over is not None and side > second_pass_over:
            found = merge_passes(found, detect_one(model, grey, min(2 * size, side), threshold))
        out.append(found)
    return out


def detect_one(model: PlateDetector, grey: np.ndarray, size: int, threshold: float = PEAK_THRESHOLD) -> list[Detection]:
    """One photo's detections with its longer side scaled to `size` px, in the photo's own pixels: the net's
    heatmap and features, the corner head read at the heatmap's peaks (`decode`'s detections)."""
    boxed = letterbox(grey, size)
    heat, features = model.locate(to_tensor([boxed.image]))
    heat = torch.sigmoid(heat[0, 0]).numpy()
    ys, xs = peaks(heat, threshold)
    offsets = corners_at(model.corners, features[0].numpy(), ys, xs)
    return [_rescale(d, boxed.scale) for d in detections(heat, ys, xs, offsets)]


def merge_passes(first: list[Detection], second: list[Detection], nms_iou: float = NMS_IOU) -> list[Detection]:
    """Two passes' detections of one photo as one list, best first: the first pass's, and the second's that
    overlap none of them by more than `nms_iou` (box IoU, as `decode` suppresses duplicates)."""
    added = [d for d in second if all(box_iou(d.box, f.box) <= nms_iou for f in first)]
    return sorted(first + added, key=lambda d: -d.score)


def drop_nested(detections: list[Detection], nested: float = 0.5) -> list[Detection]:
    """Detections (best first) without those whose box shares at least `nested` of the smaller box's area
    (`box_ios`) with a better one kept: one plate found twice, by two passes at different scales."""
    kept: list[Detection] = []
    for d in sorted(detections, key=lambda d: -d.score):
        if all(box_ios(d.box, k.box) < nested for k in kept):
            kept.append(d)
    return kept


def _rescale(d: Detection, scale: float) -> Detection:
    corners = unletterbox(d.corners, scale)
    return Detection(corners, corners_to_box(corners), d.score)
