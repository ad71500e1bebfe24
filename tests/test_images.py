"""`walk_images`, the one folder walk (the CLI's inputs, the labelled-crop loaders), against pathlib's own walk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from anpr_ocr.core.images import IMAGE_SUFFIXES, walk_images


def _oracle(paths) -> list[Path]:
    return sorted(p for p in paths if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())


@pytest.fixture
def tree(tmp_path):
    for name in ("b.png", "A.JPG", "notes.txt", "sub/z.webp", "sub/deeper/a.tif", "sub/deeper/x.bmp.txt",
                 "Sub2/c.jpeg", "other/linked.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "folder.png").mkdir()  # a folder named like an image is walked into, not listed
    (tmp_path / "folder.png" / "in.png").write_bytes(b"")
    os.symlink(tmp_path / "other", tmp_path / "link_to_other")  # a linked folder is not entered
    os.symlink(tmp_path / "other" / "linked.png", tmp_path / "link.png")  # a linked file is listed
    os.symlink(tmp_path / "missing.png", tmp_path / "dangling.png")  # a link to nothing is no image file
    return tmp_path


def test_the_walk_is_rglobs_sorted_order_of_image_files(tree):
    found = list(walk_images(tree))
    assert found == _oracle(tree.rglob("*"))
    names = {p.name for p in found}
    assert {"A.JPG", "link.png", "in.png", "c.jpeg"} <= names
    assert not names & {"notes.txt", "x.bmp.txt", "dangling.png", "folder.png"}
    assert tree / "link_to_other" / "linked.png" not in found


def test_not_recursive_lists_the_folders_own_files(tree):
    assert list(walk_images(tree, recursive=False)) == _oracle(tree.glob("*"))
    assert list(walk_images(str(tree / "sub"), recursive=False)) == [tree / "sub" / "z.webp"]


def test_the_walk_is_lazy(tree):
    walk = walk_images(tree)
    assert next(walk) == tree / "A.JPG"
    (tree / "sub" / "deeper" / "late.png").write_bytes(b"")  # written after the walk began, before it got there
    assert tree / "sub" / "deeper" / "late.png" in list(walk)


def test_a_missing_folder_is_an_error_when_the_walk_starts(tmp_path):
    walk = walk_images(tmp_path / "nowhere")  # nothing happens before the first file is asked for
    with pytest.raises(FileNotFoundError):
        next(walk)
