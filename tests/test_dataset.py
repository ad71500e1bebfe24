import cv2
import numpy as np
import pytest
import torch

from anpr_ocr.core.data import Sample
from anpr_ocr.core.formats import plate_type
from anpr_ocr.core.images import preprocess
from anpr_ocr.train.augment import train_augmentation
from anpr_ocr.train.dataset import RealPlates, SyntheticPlates, collate
from anpr_ocr.train.synth import PlateRenderer, SynthConfig


@pytest.fixture(scope="module")
def renderer(font_path, texts_path):
    return PlateRenderer(SynthConfig(font_path=str(font_path), texts_path=str(texts_path)))


def _check_item(item, text=None):
    x, t = item
    assert isinstance(x, torch.Tensor)
    assert x.shape == (1, 32, 128) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1
    assert isinstance(t, str)
    if text is not None:
        assert t == text


def test_real_plates_without_augmentation_is_preprocess(val_samples):
    ds = RealPlates(val_samples[:5])
    assert len(ds) == 5
    for i in range(5):
        _check_item(ds[i], val_samples[i].text)
        np.testing.assert_array_equal(ds[i][0].numpy(), preprocess(val_samples[i].image))


def test_real_plates_are_preprocessed_at_the_models_input_size(val_samples):
    ds = RealPlates(val_samples[:2], input_size=(48, 128))
    np.testing.assert_array_equal(ds[1][0].numpy(), preprocess(val_samples[1].image, 48, 128))
    assert ds[1][0].shape == (1, 48, 128)


def test_real_plates_augmented_deterministic_per_seed_epoch_index(val_samples):
    samples = val_samples[:6]
    a = RealPlates(samples, train_augmentation(), seed=3)
    b = RealPlates(samples, train_augmentation(), seed=3)  # a fresh pipeline, same seed
    for i in range(6):
        _check_item(a[i], samples[i].text)
        assert torch.equal(a[i][0], b[i][0])
    # the order of access does not matter: each item draws from (seed, epoch, index) only
    assert torch.equal(a[4][0], RealPlates(samples, train_augmentation(), seed=3)[4][0])
    plain = RealPlates(samples)
    assert sum(not torch.equal(a[i][0], plain[i][0]) for i in range(6)) >= 3  # augmentation does something


def test_real_plates_differ_across_epochs_and_seeds(val_samples):
    samples = val_samples[:6]
    ds = RealPlates(samples, train_augmentation(), seed=0)
    epoch0 = [ds[i][0] for i in range(6)]
    ds.set_epoch(1)
    epoch1 = [ds[i][0] for i in range(6)]
    assert sum(not torch.equal(x, y) for x, y in zip(epoch0, epoch1)) >= 4
    ds.set_epoch(0)
    assert all(torch.equal(ds[i][0], epoch0[i]) for i in range(6))
    other = RealPlates(samples, train_augmentation(), seed=1)
    assert sum(not torch.equal(other[i][0], epoch0[i]) for i in range(6)) >= 4


def test_synthetic_plates_labels_deterministic_and_new_each_epoch(renderer):
    a = SyntheticPlates(renderer, 8, train_augmentation(), seed=0)
    b = SyntheticPlates(renderer, 8, train_augmentation(), seed=0)
    assert len(a) == 8
    texts0 = [a[i][1] for i in range(8)]
    assert texts0 == [b[i][1] for i in range(8)]
    assert all(plate_type(t) is not None for t in texts0)
    a.set_epoch(1)
    texts1 = [a[i][1] for i in range(8)]
    assert sum(x != y for x, y in zip(texts0, texts1)) >= 6
    c = SyntheticPlates(renderer, 8, train_augmentation(), seed=1)
    assert sum(x != c[i][1] for i, x in enumerate(texts0)) >= 6


def _item_with_cv2_seed(ds, i):
    cv2.setRNGSeed(i + 7)  # OpenCV's global RNG is moved on purpose: items must not depend on it
    return ds[i]


def test_synthetic_plates_images_deterministic(renderer):
    a = SyntheticPlates(renderer, 4, train_augmentation(), seed=0)
    b = SyntheticPlates(renderer, 4, train_augmentation(), seed=0)
    for i in range(4):
        xa, ta = _item_with_cv2_seed(a, i)
        xb, tb = _item_with_cv2_seed(b, i)
        _check_item((xa, ta))
        assert ta == tb
        assert torch.equal(xa, xb)
    x0 = _item_with_cv2_seed(a, 2)[0]
    a.set_epoch(1)
    assert not torch.equal(x0, _item_with_cv2_seed(a, 2)[0])


def test_collate_concatenates_targets():
    x1, x2 = torch.zeros(1, 32, 128), torch.ones(1, 32, 128)
    images, targets, lengths, texts = collate([(x1, "A1"), (x2, "B22X")])
    assert images.shape == (2, 1, 32, 128)
    assert torch.equal(images[1], x2)
    assert targets.tolist() == [11, 2, 12, 3, 3, 22]
    assert targets.dtype == torch.long
    assert lengths.tolist() == [2, 4]
    assert texts == ["A1", "B22X"]


def test_collate_through_a_dataloader(val_samples):
    loader = torch.utils.data.DataLoader(RealPlates(val_samples[:5]), batch_size=4, collate_fn=collate)
    images, targets, lengths, texts = next(iter(loader))
    assert images.shape == (4, 1, 32, 128)
    assert texts == [s.text for s in val_samples[:4]]
    assert lengths.tolist() == [len(t) for t in texts]
    assert targets.numel() == int(lengths.sum())


def test_real_plates_accept_a_constructed_sample():
    s = Sample(np.full((30, 100), 255, np.uint8), "A123BC77", "mem")
    x, t = RealPlates([s])[0]
    assert t == "A123BC77" and torch.all(x == 1.0)


def _regions(n_by_region: dict[str, int]) -> list[Sample]:
    """Drawn private plates (a light plate, a dark line at x 100 of 140), n of each region code."""
    grey = np.full((30, 140), 200, np.uint8)
    grey[:, 100:102] = 40
    return [Sample(grey.copy(), f"A{i:03d}BC{region}", f"{region}_{i}.png")
            for region, n in n_by_region.items() for i in range(n)]


def test_real_plates_recombined_draw_donors_evenly_over_region_codes():
    samples = _regions({"35": 30, "77": 3, "199": 3})
    ds = RealPlates(samples, seed=0)
    ds.recombine([100] * len(samples), 1.0)
    regions = []
    for epoch in range(10):
        ds.set_epoch(epoch)
        for i, s in enumerate(samples):
            text = ds[i][1]
            assert text[:6] == s.text[:6]  # the body stays
            regions.append(text[6:])
    assert set(regions) == {"35", "77", "199"}
    # evenly over the three codes (1/3 each), not over the crops (30 of 36 carry 35)
    assert 0.25 < regions.count("35") / len(regions) < 0.42
    with pytest.raises(ValueError, match="one cut a crop"):
        ds.recombine([100], 1.0)


def test_real_plates_recombined_leave_the_other_crops_as_they_were(val_samples):
    samples = val_samples[:12]
    cuts = [int(s.image.shape[1] * 0.74) for s in samples]
    plain = RealPlates(samples, train_augmentation(), seed=3)
    mixed = RealPlates(samples, train_augmentation(), seed=3)
    mixed.recombine(cuts, 0.5)
    swapped = 0
    for i, s in enumerate(samples):
        x, text = mixed[i]
        if text == s.text and torch.equal(x, plain[i][0]):
            continue  # not drawn for a swap: the very item it was, augmentation and all
        swapped += 1
        assert text[:6] == s.text[:6]
    assert 2 <= swapped <= 10
    mixed.recombine(cuts, 0.0)
    assert all(torch.equal(mixed[i][0], plain[i][0]) for i in range(12))
