"""The committed notebooks publish nothing when run as they are, and the publishing script keeps them so."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = ("ocr_train.ipynb", "detect_train.ipynb")


def _parameters(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """Each tagged cell's tag and source: what papermill reads and writes."""
    return {tag: cell.source for cell in notebook.cells for tag in cell.get("metadata", {}).get("tags", [])
            if tag in ("parameters", "injected-parameters")}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_notebooks_do_not_publish_when_run_as_they_are(name):
    """Run top to bottom in Jupyter or by the README's first command (no -p), PUBLISH is the parameters cell's."""
    cells = _parameters(nbformat.read(REPO / name, as_version=4))
    assert "injected-parameters" not in cells
    assert "\nPUBLISH = False" in cells["parameters"]


def test_publish_script_runs_with_publish_and_removes_the_injected_cell(tmp_path):
    pytest.importorskip("papermill")
    notebook = tmp_path / "tiny.ipynb"
    record = tmp_path / "published.txt"
    parameters = nbformat.v4.new_code_cell("PUBLISH = False")
    parameters.metadata["tags"] = ["parameters"]
    kernel = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    nbformat.write(nbformat.v4.new_notebook(cells=[parameters, nbformat.v4.new_code_cell(
        f"open({str(record)!r}, 'w').write(str(PUBLISH))")], metadata=kernel), notebook)
    subprocess.run([sys.executable, str(REPO / "scripts" / "publish_notebook.py"), str(notebook)], check=True,
                   capture_output=True)
    assert record.read_text() == "True"  # the run published
    after = nbformat.read(notebook, as_version=4)
    assert _parameters(after) == {"parameters": "PUBLISH = False"}  # and the notebook no longer does
    assert "parameters" not in after.metadata.get("papermill", {})
    assert len(after.cells) == 2 and after.cells[1].execution_count is not None  # the run's record is kept
