"""A maintainer's publishing run of a notebook, in place, leaving the notebook safe to run again.

    python scripts/publish_notebook.py ocr_train.ipynb        # then detect_train.ipynb likewise

Runs the notebook with papermill and PUBLISH = True into the notebook itself (its outputs are the record that is
committed), then removes the cell papermill injected to set it and papermill's note of the parameters. Left in, that
cell would set PUBLISH = True for everyone after: papermill replaces it only when given parameters, and Jupyter runs
it as any other cell, so the README's first command or a reader running the notebook top to bottom on real data
would rewrite the committed weights, figures and README. Without it the notebook's own parameters cell holds, where
PUBLISH is False.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nbformat
import papermill

INJECTED = "injected-parameters"  # the tag papermill gives the cell it adds


def without_injected_parameters(path: Path) -> int:
    """Remove papermill's injected parameters cells and its record of them from a notebook file; how many cells."""
    notebook = nbformat.read(path, as_version=4)
    kept = [cell for cell in notebook.cells if INJECTED not in cell.get("metadata", {}).get("tags", [])]
    removed = len(notebook.cells) - len(kept)
    notebook.cells = kept
    notebook.metadata.get("papermill", {}).pop("parameters", None)
    nbformat.write(notebook, path)
    return removed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebook", type=Path)
    args = parser.parse_args()
    papermill.execute_notebook(str(args.notebook), str(args.notebook), parameters={"PUBLISH": True}, log_output=True)
    print(f"{args.notebook}: published; {without_injected_parameters(args.notebook)} injected cell(s) removed")


if __name__ == "__main__":
    main()
