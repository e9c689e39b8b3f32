"""Today's ways of naming the value an assay watches, mapped onto the tutorial's iopath.

The tutorial says "output 0 0": output tensor 0, element 0. Today's v1 window path says
"output variable 0" (the field's name, then the element; no element for a scalar) and v2 says
`{"field": "out.variable", "indexes": [0]}`. The emulator's inference log holds one input row
per record (the tutorial's `original_data.tensor`, whatever the input is called) and its outputs
in order (`outputs[k].Float.data`), so: any input name is that row; an output named by a number
is that output, and one named by a word is the first (the demo models have one output).
"""

from __future__ import annotations

import re
from typing import Any

from emulator.assays.config import AssayConfigError

_PATH = re.compile(r"\s*(input|output)\s+([A-Za-z0-9_.:-]+)(?:\s+(\d+))?\s*")
_FIELD = re.compile(r"(in|out)\.([A-Za-z0-9_.:-]+)")


def tutorial_iopath(kind: str, name: str, element: int) -> str:
    """("output", "variable", 0) -> "output 0 0"."""
    tensor = int(name) if name.isdigit() else 0
    return f"{kind} {tensor} {element}"


def path_to_iopath(path: Any, field: str = "window.path") -> str:
    """Today's v1 window path ("output variable 0", "input tensor 3") -> a tutorial iopath."""
    match = _PATH.fullmatch(path) if isinstance(path, str) else None
    if match is None:
        raise AssayConfigError(
            field, "expected 'input|output <field name> [<index>]', e.g. 'output variable 0'"
        )
    return tutorial_iopath(match[1], match[2], int(match[3] or 0))


def iopath_to_path(iopath: str) -> str:
    """The tutorial iopath, shown where today's answers have a window path."""
    return " ".join(iopath.split())


def field_to_iopath(name: Any, indexes: Any, field: str) -> str:
    """A v2 DataPath ("out.variable", [0]) -> a tutorial iopath; one index at most."""
    match = _FIELD.fullmatch(name) if isinstance(name, str) else None
    if match is None:
        raise AssayConfigError(f"{field}.field", "expected 'in.<name>' or 'out.<name>'")
    if indexes is None or indexes == []:
        element = 0
    elif (
        isinstance(indexes, list)
        and len(indexes) == 1
        and isinstance(indexes[0], int)
        and not isinstance(indexes[0], bool)
        and indexes[0] >= 0
    ):
        element = indexes[0]
    else:
        raise AssayConfigError(f"{field}.indexes", "expected null or one index >= 0, e.g. [0]")
    kind = "input" if match[1] == "in" else "output"
    return tutorial_iopath(kind, match[2], element)


def iopath_key(name: str, indexes: list[int] | None) -> str:
    """The key v2 results file a DataPath under: "out.variable.0" (no index: "out.variable")."""
    return f"{name}.{indexes[0]}" if indexes else name
