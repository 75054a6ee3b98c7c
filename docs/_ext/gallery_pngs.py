"""sphinx-gallery hooks for the examples, which save their figures with ``--out DIR`` (matplotlib's
``Figure``, no pyplot): :func:`argv` points ``--out`` at :data:`OUT`, :func:`pngs` moves what an
example wrote there into the gallery."""

import shutil
import tempfile
from pathlib import Path

from sphinx_gallery.scrapers import figure_rst

OUT = Path(tempfile.gettempdir()) / "multiloss-gallery"


def argv(gallery_conf, script_vars):
    """The command line of an example: ``--out OUT`` for those that take it."""
    return ["--out", str(OUT)] if '"--out"' in Path(script_vars["src_file"]).read_text(encoding="utf-8") else []


def pngs(block, block_vars, gallery_conf):
    """An image scraper: the PNGs the block wrote into :data:`OUT`, moved to the gallery's images."""
    images = []
    for png in sorted(OUT.glob("*.png")):
        images.append(block_vars["image_path_iterator"].next())
        shutil.move(png, images[-1])
    return figure_rst(images, gallery_conf["src_dir"])
