"""Sphinx configuration of the skfocal documentation.

Build with ``make docs``, i.e.
``sphinx-build -W --keep-going -b html docs docs/_build/html``: warnings are
errors. The build is offline: no intersphinx mapping is configured, and
MathJax is only loaded by the reader's browser.

The gallery (``examples/plot_*.py``) is executed during the build by
sphinx-gallery; every figure in the user guide comes from it.
"""

import re
import sys
from pathlib import Path

import torch

import skfocal

DOCS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS_DIR / "sphinxext"))

# The examples run inside this process. Small MLPs gain nothing from a second
# thread, and on a shared 2-core machine a second thread is much slower
# (DESIGN.md, "Performance facts"), so the build uses one.
torch.set_num_threads(1)

# -- Project -----------------------------------------------------------------
project = "skfocal"
author = "skfocal developers"
copyright = "skfocal developers"
release = skfocal.__version__
version = release

# -- General -----------------------------------------------------------------
extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
# benchmark-*/ hold the raw output of benchmark runs (with their own
# summary.md); benchmark_summary.md and performance.md present them.
exclude_patterns = ["_build", "sphinxext", "**.ipynb_checkpoints", "benchmark-*"]
default_role = "literal"
nitpicky = False

# -- autodoc / autosummary / numpydoc ------------------------------------------
# API pages are generated into docs/generated/ (git-ignored, rebuilt each time).
autosummary_generate = True
autosummary_imported_members = False
autodoc_typehints = "none"  # numpydoc's "name : type" says it, once
autodoc_member_order = "groupwise"
autodoc_inherit_docstrings = False  # no torch docstrings on forward()

numpydoc_show_class_members = False  # methods come from autodoc's :members:
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False  # no intersphinx, hence nothing to link to
numpydoc_validation_checks = set()  # a style check, not a build breaker

# -- MyST (Markdown pages: performance.md, benchmark_summary.md, changes) ------
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
# Pages written by the benchmark and speed runs may skip heading levels.
# numpydoc keeps References sections that the text does not cite ("[1]_"),
# as in the module docstrings of skfocal.losses and skfocal.datasets.
suppress_warnings = ["myst.header", "ref.citation"]

# -- sphinx-gallery --------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"plot_",
    "abort_on_example_error": True,
    "within_subsection_order": "gallery_order.ExampleOrder",
    # "Examples using X" mini-galleries on the API pages.
    "doc_module": ("skfocal",),
    "backreferences_dir": "gen_modules/backreferences",
    "reference_url": {"skfocal": None},
    "remove_config_comments": True,
    # No "<matplotlib.legend.Legend at 0x...>" lines under the code cells.
    "ignore_repr_types": r"matplotlib[\._]",
    "show_memory": False,
    "min_reported_time": 1,
}


def _quote_attribute_shapes(app, what, name, obj, options, lines):
    """Quote ``(n_features_in_,)`` in docstrings before docutils reads them.

    In reStructuredText a word ending in ``_`` is a link; the estimators'
    ``feature_names_in_`` entry reads ``ndarray of shape (n_features_in_,)``
    and docutils reports an unknown target. scikit-learn writes
    ``(`n_features_in_`,)``; until the docstring does, quote it here.
    """
    for index, line in enumerate(lines):
        lines[index] = line.replace("(n_features_in_,)", "(``n_features_in_``,)")


_SKLEARN_REF = re.compile(r":ref:`([^`<]*?)\s*(?:<[^`]*>)?`")


def _unlink_sklearn_refs(app, what, name, obj, options, lines):
    """Turn ``:ref:`` roles of inherited scikit-learn docstrings into text.

    Methods such as ``score`` and ``get_params`` come from scikit-learn, and
    their docstrings refer to labels of scikit-learn's own documentation,
    which this offline build (no intersphinx) cannot resolve.
    """
    if not getattr(obj, "__module__", "").startswith("sklearn"):
        return
    for index, line in enumerate(lines):
        lines[index] = _SKLEARN_REF.sub(r"``\1``", line)


def setup(app):
    # Before numpydoc (priority 500) turns the sections into reST.
    app.connect("autodoc-process-docstring", _quote_attribute_shapes, priority=400)
    app.connect("autodoc-process-docstring", _unlink_sklearn_refs, priority=400)


# -- HTML ----------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skfocal {release}"
html_theme_options = {
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc", "sg_download_links"],
}
html_sidebars = {"index": [], "getting_started": []}
html_show_sourcelink = False
