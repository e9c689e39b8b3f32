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

from cryptography.hazmat.primitives.asymmetric import rsa

_lock = threading.Lock()
_free: list[rsa.RSAPrivateKey] = []


def lend_key() -> rsa.RSAPrivateKey:
    """A key no running emulator holds; `give_back` it once its emulator has stopped."""
    with _lock:
        if _free:
            return _free.pop()
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def give_back(key: rsa.RSAPrivateKey) -> None:
    with _lock:
        _free.append(key)
