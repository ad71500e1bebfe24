import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from anpr_ocr.core.images import (
    IMAGE_SUFFIXES,
    INPUT_HEIGHT,
    INPUT_WIDTH,
    MAX_SIDE,
    ImageError,
    as_grey,
    batch_tensor,
    preprocess,
    read_image,
    to_grey,
)


def _bgr(b, g, r, h=4, w=6):
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = (b, g, r)
    return img


def test_to_grey_keeps_grey_uint8():
    grey = (np.arange(12, dtype=np.uint8) * 20).reshape(3, 4)
    out = to_grey(grey)
    assert out.dtype == np.uint8 and out.shape == (3, 4)
    np.testing.assert_array_equal(out, grey)


def test_to_grey_bgr_uses_channel_order():
    red_bgr = _bgr(0, 0, 255)
    assert to_grey(red_bgr).shape == (4, 6)
    assert set(np.unique(to_grey(red_bgr))) == {76}  # 0.299 * 255
    assert set(np.unique(to_grey(red_bgr, bgr=False))) == {29}  # read as RGB: blue, 0.114 * 255
    assert set(np.unique(to_grey(_bgr(0, 255, 0)))) == {150}  # 0.587 * 255


def test_to_grey_bgra_ignores_alpha():
    img = np.zeros((4, 6, 4), np.uint8)
    img[..., 2] = 255
    img[..., 3] = 0  # fully transparent: still read by colour
    out = to_grey(img)
    assert out.shape == (4, 6) and out.dtype == np.uint8
    assert set(np.unique(out)) == {76}
    assert set(np.unique(to_grey(img, bgr=False))) == {29}


def test_to_grey_hxwx1():
    img = np.full((5, 7, 1), 33, np.uint8)
    out = to_grey(img)
    assert out.shape == (5, 7)
    assert (out == 33).all()


def test_to_grey_uint16_scales_to_8_bit():
    img = np.array([[0, 257, 257 * 100], [257 * 200, 65535, 256]], np.uint16)
    out = to_grey(img)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, [[0, 1, 100], [200, 255, 0]])


def test_to_grey_small_int_values_are_kept():
    img = np.array([[0, 10], [200, 255]], np.int32)
    np.testing.assert_array_equal(to_grey(img), [[0, 10], [200, 255]])
    np.testing.assert_array_equal(to_grey(np.array([[-5, 3], [1, 2]], np.int64)), [[0, 3], [1, 2]])


def test_to_grey_float_0_to_1():
    img = np.array([[0.0, 0.5], [1.0, 0.2]], np.float32)
    np.testing.assert_array_equal(to_grey(img), [[0, 127], [255, 51]])


def test_to_grey_float_0_to_255():
    img = np.array([[0.0, 100.0], [200.7, 300.0]], np.float64)
    np.testing.assert_array_equal(to_grey(img), [[0, 100], [200, 255]])


def test_to_grey_bool():
    img = np.array([[True, False], [False, True]])
    np.testing.assert_array_equal(to_grey(img), [[255, 0], [0, 255]])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_to_grey_nan_and_inf_raise(bad):
    img = np.zeros((4, 4), np.float32)
    img[1, 2] = bad
    with pytest.raises(ImageError, match="NaN or infinite"):
        to_grey(img, name="crop7")


@pytest.mark.parametrize("shape", [(1, 1), (1, 50), (50, 1), (1, 1, 3)])
def test_to_grey_too_small_raises(shape):
    with pytest.raises(ImageError, match="too small"):
        to_grey(np.zeros(shape, np.uint8), name="tiny")


@pytest.mark.parametrize("shape", [(4, 4, 2), (4, 4, 5), (4,), (2, 4, 4, 3)])
def test_to_grey_bad_shape_raises(shape):
    with pytest.raises(ImageError, match="expected HxW"):
        to_grey(np.zeros(shape, np.uint8), name="odd")


def test_to_grey_names_the_input():
    with pytest.raises(ImageError, match="^plate_42:"):
        to_grey(np.zeros((1, 1), np.uint8), name="plate_42")


def test_to_grey_rejects_non_arrays():
    with pytest.raises(TypeError, match="list"):
        to_grey([[0, 1], [2, 3]])


def test_to_grey_huge_array_is_shrunk():
    # 16000 x 4000 x 3 float32 (768 MB if materialised) as a broadcast view: conversion must
    # subsample first (step ceil(16000 / 4096) = 4) instead of converting every pixel.
    row = np.linspace(0.0, 1.0, 4000, dtype=np.float32)[None, :, None]
    huge = np.broadcast_to(row, (16000, 4000, 3))
    out = to_grey(huge)
    assert out.shape == (4000, 1000)
    assert out.dtype == np.uint8
    assert out[0, 0] == 0 and out[0, -1] >= 254
    assert max(out.shape) <= MAX_SIDE
    x = preprocess(out)
    assert x.shape == (1, INPUT_HEIGHT, INPUT_WIDTH)


def test_preprocess_shape_dtype_range():
    rng = np.random.default_rng(0)
    for shape in [(103, 479), (17, 58), (32, 128), (8, 300)]:
        grey = rng.integers(0, 256, shape, dtype=np.uint8)
        x = preprocess(grey)
        assert x.shape == (1, 32, 128)
        assert x.dtype == np.float32
        assert x.min() >= -1.0 and x.max() <= 1.0


def test_preprocess_scaling_hand_computed():
    np.testing.assert_allclose(preprocess(np.zeros((20, 60), np.uint8)), -1.0)
    np.testing.assert_allclose(preprocess(np.full((200, 600), 255, np.uint8)), 1.0)
    np.testing.assert_allclose(preprocess(np.full((40, 150), 100, np.uint8)), 100 / 127.5 - 1, rtol=1e-6)


def test_preprocess_keeps_left_right_order():
    grey = np.zeros((20, 80), np.uint8)
    grey[:, 40:] = 255
    x = preprocess(grey)[0]
    assert (x[:, :60] == -1).all() and (x[:, 68:] == 1).all()


def test_preprocess_custom_size():
    assert preprocess(np.zeros((10, 10), np.uint8), height=16, width=48).shape == (1, 16, 48)


def test_read_image_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.png"):
        read_image(tmp_path / "nope.png")
    with pytest.raises(FileNotFoundError):
        read_image(tmp_path)  # a folder is not an image file


def test_read_image_non_image_file(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is not an image")
    with pytest.raises(ImageError) as info:
        read_image(path)
    assert str(path) in str(info.value)


def test_read_image_empty_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(ImageError, match="empty.jpg"):
        read_image(path)


def test_read_image_formats_round_trip(tmp_path):
    grey = np.tile(np.arange(0, 250, 5, dtype=np.uint8), (20, 1))  # 20 x 50
    cv2.imwrite(str(tmp_path / "g.png"), grey)
    cv2.imwrite(str(tmp_path / "g.bmp"), grey)
    cv2.imwrite(str(tmp_path / "g16.png"), grey.astype(np.uint16) * 257)
    cv2.imwrite(str(tmp_path / "c.png"), cv2.merge([grey, grey, grey]))
    cv2.imwrite(str(tmp_path / "a.png"), cv2.merge([grey, grey, grey, np.full_like(grey, 128)]))
    cv2.imwrite(str(tmp_path / "g.jpg"), grey, [cv2.IMWRITE_JPEG_QUALITY, 95])
    for name in ["g.png", "g.bmp", "g16.png", "c.png", "a.png"]:
        out = read_image(tmp_path / name)
        assert out.dtype == np.uint8 and out.shape == (20, 50), name
        np.testing.assert_array_equal(out, grey, err_msg=name)
    jpg = read_image(tmp_path / "g.jpg")
    assert jpg.shape == (20, 50)
    assert np.abs(jpg.astype(int) - grey).max() <= 12


def test_read_image_real_crop(data_root):
    path = data_root / "val" / "img" / "vkcv_1101_0.png"
    out = read_image(path)
    assert out.ndim == 2 and out.dtype == np.uint8
    assert out.shape == (103, 479)  # as its ann JSON records


def _reference_input(grey: np.ndarray) -> np.ndarray:
    """The model input written out by hand: resize (area when shrinking), then v / 127.5 - 1 in float32."""
    interpolation = cv2.INTER_AREA if grey.shape[1] > INPUT_WIDTH else cv2.INTER_LINEAR
    return cv2.resize(grey, (INPUT_WIDTH, INPUT_HEIGHT), interpolation=interpolation).astype(np.float32) / 127.5 - 1.0


def test_batch_tensor_is_preprocess_bit_for_bit():
    rng = np.random.default_rng(3)
    greys = [rng.integers(0, 256, shape, dtype=np.uint8) for shape in [(103, 479), (17, 58), (32, 128), (40, 90)]]
    x = batch_tensor(greys)
    assert x.shape == (4, 1, INPUT_HEIGHT, INPUT_WIDTH) and x.dtype == torch.float32
    for i, grey in enumerate(greys):
        np.testing.assert_array_equal(x[i, 0].numpy(), _reference_input(grey))
        np.testing.assert_array_equal(preprocess(grey)[0], _reference_input(grey))
    np.testing.assert_array_equal(batch_tensor(greys[1:2]).numpy(), x[1:2].numpy())  # a batch of one alike
    assert batch_tensor([]).shape == (0, 1, INPUT_HEIGHT, INPUT_WIDTH)


def test_as_grey_reads_every_input_form_alike(tmp_path):
    grey = np.tile(np.arange(0, 250, 5, dtype=np.uint8), (20, 1))
    bgr = cv2.merge([grey, grey, grey])
    cv2.imwrite(str(tmp_path / "g.png"), bgr)
    for image in [grey, bgr, str(tmp_path / "g.png"), tmp_path / "g.png", Image.fromarray(grey),
                  Image.fromarray(bgr[:, :, ::-1].copy())]:
        np.testing.assert_array_equal(as_grey(image), grey)
    with pytest.raises(IsADirectoryError, match="crop 3"):
        as_grey(tmp_path, "crop 3")
    with pytest.raises(TypeError, match="crop 4"):
        as_grey(b"g.png", "crop 4")


def test_image_suffixes_are_one_list_for_the_loader(tmp_path):
    """A .webp or .tiff crop is an image to the loader as it is to the command line (one IMAGE_SUFFIXES)."""
    from anpr_ocr.core.data import load_samples

    grey = np.tile(np.arange(0, 250, 5, dtype=np.uint8), (20, 1))
    for name in ["A123BC77.webp", "B456CE99.TIFF", "C789EK50.png"]:
        assert cv2.imwrite(str(tmp_path / name), grey)
    (tmp_path / "E000XX00.txt").write_text("not an image")
    samples, report = load_samples(tmp_path)
    assert sorted(s.text for s in samples) == ["A123BC77", "B456CE99", "C789EK50"]
    assert {".webp", ".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp"} == set(IMAGE_SUFFIXES)


def test_read_image_refuses_a_bomb_from_its_header(tmp_path, monkeypatch):
    from anpr_ocr.core import images as module

    path = tmp_path / "wide.png"
    cv2.imwrite(str(path), np.zeros((20, 60), np.uint8))
    monkeypatch.setattr(module, "MAX_FILE_PIXELS", 20 * 60 - 1)
    with pytest.raises(ImageError, match="60x20 pixels, too large"):
        read_image(path)
    monkeypatch.setattr(module, "MAX_FILE_PIXELS", 20 * 60)
    assert read_image(path).shape == (20, 60)
