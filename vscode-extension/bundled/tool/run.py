"""Runs the promptwise bundled with the extension, on whichever Python 3.11+ the extension found.

The extension starts it as `python -I run.py lsp`: isolated, so neither PYTHONPATH, the user's site-packages nor
the working folder is importable. The bundled libraries go first on sys.path: ../libs/cp3XY (built for this
Python) and ../libs/common (the same for every Python, promptwise itself among them).
`run.py --probe` prints one JSON line for the extension's check instead; it must parse on any Python.
"""

import json
import os
import re
import sys

LIBS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "libs")


def bundled_pythons():
    try:
        names = os.listdir(LIBS)
    except OSError:
        return []
    found = [(int(m.group(1)), int(m.group(2))) for m in (re.match(r"^cp(3)(\d+)$", n) for n in names) if m]
    return ["%d.%d" % v for v in sorted(found)]


def use_bundled_libs():
    """Puts this Python's bundled libs first on sys.path; False when none were built for it."""
    native = os.path.join(LIBS, "cp%d%d" % sys.version_info[:2])
    if not os.path.isdir(native):
        return False
    sys.path[0:0] = [native, os.path.join(LIBS, "common")]
    return True


def probe():
    out = {"python": "%d.%d.%d" % tuple(sys.version_info[:3]), "executable": sys.executable, "bundled": bundled_pythons()}
    if sys.version_info[:2] < (3, 11):
        pass  # the extension reports the version; nothing here would import
    elif not use_bundled_libs():
        out["no_bundle"] = True
    else:
        try:
            import promptwise

            out["promptwise"] = getattr(promptwise, "__version__", "unknown")
            # Compiled libraries: a wrong platform or glibc fails here, with a message, not in the server. Small ones
            # only: the first start compiles what it imports, and the probe has a time limit.
            import pydantic_core, regex, yaml  # noqa: F401
        except ImportError as e:
            out["missing"] = getattr(e, "name", None) or str(e)
    print(json.dumps(out))


def main():
    if sys.argv[1:] == ["--probe"]:
        probe()
        return 0
    if sys.version_info[:2] < (3, 11) or not use_bundled_libs():
        sys.stderr.write("promptwise: no bundled promptwise for Python %d.%d (bundled: %s)\n" % (sys.version_info[0], sys.version_info[1], ", ".join(bundled_pythons()) or "none"))
        return 2
    from promptwise.cli.main import main as promptwise_main

    sys.argv[0] = "promptwise"
    return promptwise_main()


if __name__ == "__main__":
    sys.exit(main())
