"""An assay alert's Roll back / Undeploy act on the assay's own pipeline, found by name *and*
workspace: a pipeline of the same name in another workspace must neither take the buttons away
nor be what they act on."""

from __future__ import annotations

import re
from pathlib import Path

from emulator.seed import PIPELINE
from tests.helpers.console_scripts import answer_to, run_console
from tests.helpers.emulators import Emulator, both_api_modes
from tests.helpers.remediation_flows import newer_live as newer_live
from tests.helpers.version_flows import live_version

api_mode = both_api_modes


def test_a_namesake_pipeline_elsewhere_leaves_the_alert_its_own_rollback(
    newer_live: Emulator, tmp_path: Path
) -> None:
    admin = newer_live.admin()
    other = admin.ok("workspaces/create", {"workspace_name": "elsewhere"})["workspace_id"]
    definition = {"id": PIPELINE, "steps": []}
    body = {"pipeline_id": PIPELINE, "workspace_id": other, "definition": definition}
    admin.ok("pipelines/create", body)

    out = run_console(newer_live, tmp_path, ["subscribe assay 1", ":advance 1d"])

    alert = answer_to(out, ":advance 1d")
    offered = re.search(r"\[6 Roll back to version 1 \(([0-9a-f]{8})\)\]  \[7 Undeploy\]", alert)
    assert offered is not None, alert
    # The version before the demo pipeline's live one, not anything of the namesake's.
    newer = live_version(newer_live, PIPELINE)
    assert newer is not None and not newer.startswith(offered.group(1))
