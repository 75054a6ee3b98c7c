"""Sphinx configuration: pydata theme, MyST pages, numpydoc API reference, the examples as a
sphinx-gallery, and a page per registered loss generated at build time (``_ext/lossdocs.py``)."""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import multiloss  # noqa: E402

project = "multiloss"
author = "the multiloss authors"
copyright = "multiloss authors"
release = version = multiloss.__version__

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx_gallery.gen_gallery",
    "lossdocs",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "gallery/*.ipynb", "gallery/*.py", "gallery/*.json", "gallery/*.zip"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]  # a generated table's own heading levels

autosummary_generate = True
autodoc_default_options = {"members": True}
numpydoc_show_class_members = False  # autosummary lists members; numpydoc would list them twice
numpydoc_xref_param_type = False

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "gallery",
    "filename_pattern": r"/\d\d_",  # run every numbered example
    "ignore_pattern": r"_frameworks\.py",
    "image_scrapers": ("gallery_pngs.pngs",),
    "reset_argv": "gallery_pngs.argv",
    "download_all_examples": False,
    "line_numbers": False,
    "remove_config_comments": True,
}

html_theme = "pydata_sphinx_theme"
html_title = "multiloss"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
}
