"""Wallaroo's OpenAPI-generated client, fetched from PyPI at test time, to check answers against.

The public `wallaroo` wheel carries `wallaroo_ml_ops_api_client`, generated from the real server's
OpenAPI document. Its licence is not stated, so it is never committed nor made a dependency: pip
downloads the wheel (no dependencies) into a cache folder outside the repository, and the tests
import only that generated package from there. Its `_parse_response` functions are what Wallaroo's
SDK runs on a real answer; run on the emulator's answer, they fail where it strays from the spec.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx

WHEEL_VERSION = "2026.1.3"
PACKAGE = "wallaroo_ml_ops_api_client"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(os.environ.get("WALLAROO_SPEC_CACHE", base)) / "wallaroo-chatops" / WHEEL_VERSION


def _fetch(into: Path) -> None:
    wheels = into / "wheels"
    wheels.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--disable-pip-version-check",
            "--dest",
            str(wheels),
            f"wallaroo=={WHEEL_VERSION}",
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = wheels.glob(f"wallaroo-{WHEEL_VERSION}-*.whl")
    prefix = f"wallaroo/{PACKAGE}/"
    with zipfile.ZipFile(wheel) as archive:
        for name in archive.namelist():
            if name.startswith(prefix):
                archive.extract(name, into / "src")


def generated_client() -> ModuleType:
    """The generated package, imported from the cache (downloaded on first use)."""
    root = cache_dir()
    source = root / "src" / "wallaroo"
    if not (source / PACKAGE / "__init__.py").exists():
        _fetch(root)
    if str(source) not in sys.path:
        sys.path.append(str(source))
    return importlib.import_module(PACKAGE)


def parse_answer(area_call: str, response: httpx.Response) -> Any:
    """Parse `response` as Wallaroo's generated client does for `area/call` (its module path under
    `api/`), raising on a status it does not expect and on fields that break its models."""
    package = generated_client()
    module = importlib.import_module(f"{PACKAGE}.api.{area_call.replace('/', '.')}")
    client = package.Client(base_url="http://emulator", raise_on_unexpected_status=True)
    return module._parse_response(client=client, response=response)
