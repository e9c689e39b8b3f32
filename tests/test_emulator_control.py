"""The emulator's control API takes a JSON body whatever its Content-Type says, so README's
`curl -d '{...}'` lines (curl sends application/x-www-form-urlencoded) work as written."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.helpers.emulators import Emulator

README = Path(__file__).parent.parent / "README.md"
FAULT = b'{"path_prefix": "/v1/api/status", "latency_ms": 0, "error_rate": 1, "status": 503}'


@pytest.fixture
def own_emulator(start_emulator: Callable[..., Emulator]) -> Emulator:
    """An emulator of this test's own: faults added here must not reach other tests."""
    return start_emulator()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Content-Type": "application/json"},
        {"Content-Type": "application/x-www-form-urlencoded"},
    ],
    ids=["no content type", "json", "form (what curl -d sends)"],
)
def test_a_fault_is_added_whatever_the_content_type(
    own_emulator: Emulator, headers: dict[str, str]
) -> None:
    http = own_emulator.http
    response = http.post(f"{own_emulator.url}/emulator/faults", content=FAULT, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["faults"][0]["path_prefix"] == "/v1/api/status"
    # The fault is live: every status call now fails as asked.
    status = http.post(f"{own_emulator.api_url}/status/get_deployment", json={"name": "x"})
    assert status.status_code == 503


def test_the_clock_advances_with_no_content_type(own_emulator: Emulator) -> None:
    before = own_emulator.state.clock.now()
    response = own_emulator.http.post(
        f"{own_emulator.url}/emulator/clock", content=b'{"advance_seconds": 3600}'
    )
    assert response.status_code == 200, response.text
    assert own_emulator.state.clock.now() - before >= 3600


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "the body is not valid JSON"),
        (b'{"latency_ms": 5}', "path_prefix is required"),
        (b'{"path_prefix": "/v1", "error_rate": 2}', "error_rate"),
    ],
)
def test_a_bad_control_body_is_a_400_naming_the_problem(
    own_emulator: Emulator, body: bytes, message: str
) -> None:
    response = own_emulator.http.post(f"{own_emulator.url}/emulator/faults", content=body)
    assert response.status_code == 400
    assert message in response.json()["msg"]


def readme_curl_lines() -> list[str]:
    text = README.read_text()
    return [m.group(1) for m in re.finditer(r"^(curl .+?)(?:\s+#.*)?$", text, re.MULTILINE)]


def test_every_readme_curl_line_works_as_written(own_emulator: Emulator) -> None:
    assert shutil.which("curl"), "curl is missing: run `bash .ci/install-tools`"
    lines = readme_curl_lines()
    assert len(lines) >= 6, lines
    where = urlsplit(own_emulator.url).netloc
    answers = {}
    for line in lines:
        argv = shlex.split(line.replace("localhost:8080", where))
        result = subprocess.run(
            [*argv, "--silent", "--show-error", "--fail-with-body"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode == 0, f"{line}\n{result.stdout}{result.stderr}"
        answers[argv[-1] if argv[1] != "-X" else argv[3]] = result.stdout
    assert '"inserted":1' in answers[f"{where}/emulator/logs"]
    assert '"counts"' in answers[f"{where}/emulator/requests"]
