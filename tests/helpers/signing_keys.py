"""The RSA keys the tests' emulators sign their tokens with, made once per test process and
lent out, one to each emulator while it runs.

Making a 2048-bit key costs ~55 ms of CPU, and the suite starts an emulator for most of its
tests: some 40 s of CPU, on two cores. An emulator run any other way (`python -m emulator`,
the demo, benchmarks) still makes its own. Here each is lent one no other running emulator
holds, as two Wallaroo instances would not share one; a key goes back once its emulator has
stopped, to be lent again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import TypeVar
from unittest import mock

from cryptography.hazmat.primitives.asymmetric import rsa

T = TypeVar("T")

_lock = threading.Lock()
_free: list[rsa.RSAPrivateKey] = []


def build_with_lent_key(build: Callable[[], T]) -> tuple[T, rsa.RSAPrivateKey]:
    """`build()` (an emulator's state) with a lent key as the one its TokenService makes;
    returns what it built and the key, to `give_back` once that emulator has stopped."""
    with _lock:
        key = _free.pop() if _free else _new_key()
    # Only emulator.tokens' own name for the module is replaced, and only for this build.
    maker = SimpleNamespace(generate_private_key=lambda **_: key)
    try:
        with mock.patch("emulator.tokens.rsa", maker):
            return build(), key
    except BaseException:
        give_back(key)
        raise


def give_back(key: rsa.RSAPrivateKey) -> None:
    with _lock:
        _free.append(key)


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)
