"""The notebooks in notebooks/: committed without outputs, and every one executes.

Each is executed once per session (the ``executed_notebooks`` fixture in conftest.py);
the documentation build publishes the same runs.
"""

import pathlib

import pytest

from .optional import require

NOTEBOOKS = sorted((pathlib.Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


def test_the_five_notebooks_are_there():
    assert [p.name[:2] for p in NOTEBOOKS] == ["01", "02", "03", "04", "05"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_committed_without_outputs(path):
    nbformat = require("nbformat", "notebooks")
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None, cell.source[:60]
    assert "does not replace" in notebook.cells[0].source  # the disclaimer, up front


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, executed_notebooks):
    notebook = executed_notebooks(path)  # raises CellExecutionError, with the cell, on error
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert not [o for o in cell.outputs if o.output_type == "error"]
            assert cell.execution_count is not None
