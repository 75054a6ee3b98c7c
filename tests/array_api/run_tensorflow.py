"""Run data-apis/array-api-tests on multiloss's TensorFlow namespace.

Usage: ``python tests/array_api/run_tensorflow.py [--max-examples N] [pytest args...]``.

The suite is not on the package index: a pinned copy is found at ``$ARRAY_API_TESTS_DIR``, else
``<repo>/../shared/array-api-tests``, else ``/work/shared/array-api-tests``. It is copied to a
temporary folder and run there at the standard version the namespace declares, on the names it
exports (``harness.py``), with ``tensorflow-skips.txt`` and ``tensorflow-xfails.txt`` (one test id
and ``# reason`` a line). Examples are derandomized and xfails strict, as in our own suite: a
failure not listed, an xfail that passes or a listed id that matches no test fails the run.
The namespace has no complex dtypes, which this suite assumes in two lines, patched in its copy.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
NAMESPACE = REPO / "multiloss" / "backends" / "tensorflow_namespace.py"
# array-api-tests 55fcc60 assumes a complex dtype in two places: lines patched for a library without
_MAX = "for dt in complex_dtypes], key=lambda x: x[1]"
_NAME = "cmplx_name = dh.dtype_to_name[dh.widest_complex_dtype]"
NO_COMPLEX_PATCHES = {
    "dtype_helpers.py": (f"{_MAX}\n", f"{_MAX}, default=(None, 0)\n"),
    "test_signatures.py": (_NAME, f"{_NAME} if dh.complex_dtypes else float_name"),
}


def find_suite() -> Path:
    candidates = [os.environ.get("ARRAY_API_TESTS_DIR"), REPO.parent / "shared" / "array-api-tests",
                  "/work/shared/array-api-tests"]  # fmt: skip
    for c in filter(None, candidates):
        if (Path(c) / "array_api_tests").is_dir():
            return Path(c)
    sys.exit(f"array-api-tests not found (looked in {', '.join(map(str, filter(None, candidates)))}); "
             "set ARRAY_API_TESTS_DIR to a copy of data-apis/array-api-tests")  # fmt: skip


def declared_version() -> str:
    """``__array_api_version__`` as the namespace declares it, read without importing TensorFlow."""
    match = re.search(r'^__array_api_version__ = "([\d.]+)"$', NAMESPACE.read_text(), re.MULTILINE)
    return match[1] if match else sys.exit(f"no __array_api_version__ in {NAMESPACE}")


def test_ids(listing: Path, out: Path) -> None:
    """``listing`` without its reasons, as the suite reads it; every entry must give one."""
    lines = []
    for n, line in enumerate(listing.read_text().splitlines(), 1):
        if line.strip() and not line.startswith("#"):
            test_id, sep, reason = line.partition(" # ")
            if not sep or not reason.strip():
                sys.exit(f"{listing.name}:{n}: no '# reason' after the test id")
            lines.append(test_id.rstrip())
    out.write_text("\n".join(lines) + "\n")


def main(argv: list[str]) -> int:
    suite, version = find_suite(), os.environ.get("ARRAY_API_TESTS_VERSION") or declared_version()
    if "--max-examples" not in argv:
        argv = ["--max-examples", "20", *argv]
    with tempfile.TemporaryDirectory(prefix="array-api-tests-") as tmp:
        copy = Path(tmp) / "array-api-tests"
        shutil.copytree(suite, copy)
        (copy / "array-api" / "spec" / version / "API_specification").mkdir(parents=True, exist_ok=True)
        for name, (old, new) in NO_COMPLEX_PATCHES.items():
            path = copy / "array_api_tests" / name
            text = path.read_text()
            if text.count(old) != 1:
                sys.exit(f"{path}: the line patched for a library without complex dtypes has changed")
            path.write_text(text.replace(old, new))
        for kind in ("skips", "xfails"):
            test_ids(HERE / f"tensorflow-{kind}.txt", Path(tmp) / f"{kind}.txt")
        env = {**os.environ, "ARRAY_API_TESTS_MODULE": "exec('from tests.array_api.harness import xp')",
               "ARRAY_API_TESTS_VERSION": version, "ARRAY_API_TESTS_SKIP_DTYPES": "complex64,complex128",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
               "TF_CPP_MIN_LOG_LEVEL": "2"}  # fmt: skip
        cmd = [sys.executable, "-m", "pytest", "array_api_tests", "-p", "tests.array_api.harness",
               "-p", "no:cacheprovider", "--skips-file", f"{tmp}/skips.txt", "--xfails-file", f"{tmp}/xfails.txt",
               "--derandomize", "--disable-deadline", "-o", "xfail_strict=true", "-rfEX",
               "-W", "error:[0-9]+ ids in (skips|xfails) file", *argv]  # fmt: skip
        return subprocess.run(cmd, cwd=copy, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
