"""Commands through the router as the tests say them, and the grammar's every command with
the text its reply must hold: reads (`HAPPY`), bad inputs (`BAD`) and writes in an order that
makes each one's effect visible to the next (`WRITES`). tests/test_commands.py runs them through
the router, tests/test_slack_http.py over signed HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handlers.commands.router import handle_command
from handlers.context import Actor, Services
from handlers.render.blocks import Reply, render_text

ADMIN = Actor("UADMIN", "ada", "T1", "C1")
VIEWER = Actor("UVIEWER", "val", "T1", "C1")


async def say(services: Services, text: str, actor: Actor = ADMIN) -> str:
    reply = await handle_command(services, actor, text)
    assert isinstance(reply, Reply)
    reply.to_slack()  # slack_sdk validates every block's limits here
    return render_text(reply)


# (command, text expected in the reply)
HAPPY = [
    ("help", "workspace create"),
    ("help pipelines", "pipeline create"),
    ("features", "plateau"),
    ("workspaces", "housepricedrift"),
    ("workspace users housepricedrift", "owner"),
    ("users", "admin@wallaroo.example"),
    ("models housepricedrift", "housepricemodel"),
    ("model housepricedrift housepricemodel", "1 version"),
    ("pipelines housepricedrift", "housepricepipe"),
    ("status housepricedrift housepricepipe", "Running"),
    (
        "url housepricedrift housepricepipe",
        "/v1/api/pipelines/infer/housepricepipe-1/housepricepipe",
    ),
    ("assays housepricedrift housepricepipe", "example assay"),
    ("assay results 1", "Ok"),
    ("assay baseline 1", "records from"),
    ("assay run 1", "29 window"),
    ("access list", "UADMIN"),
    ("audit 5", "Audit log"),
]


# (command, text expected in the error reply)
BAD = [
    ("workspacez", "Did you mean"),
    ("workspace users nowhere", "No workspace is named"),
    ("workspace users housepricedrif", "housepricedrift"),
    ("models", "workspace"),
    ("model housepricedrift nosuchmodel", "No model"),
    ("pipelines housepricedrift extra words", "pipelines"),
    ("status housepricedrift housepricepip", "housepricepipe"),
    ("url 999 housepricepipe", "No workspace has id 999"),
    ("assays housepricedrift nopipe", "No pipeline"),
    ("assay results 4242", "No assay has id 4242"),  # as `assay run 4242` says (issue 16)
    ("assay run notanumber", "assay run"),
    ("user invite not-an-email", "email"),
    ("access grant @nobody wizard", "role"),
    ("audit -3", "audit"),
]


# The demo's logs start 30 days before today's midnight (UTC): a baseline day with records.
DEMO_DAY_ONE = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
    days=29
)

# Writes in an order that makes each one's effect visible to the next: (command, expected).
WRITES = [
    ("workspace create team-a", "Created workspace"),
    ("workspace create team-a", "already exists"),
    ("user invite bo@example.com", "Invited"),
    ("user invite bo@example.com", "already a Wallaroo user"),
    ("workspace add-user team-a bo@example.com", "Added bo@example.com"),
    ("workspace users team-a", "collaborator"),
    ("workspace remove-user team-a bo@example.com", "Removed"),
    ("workspace remove-user team-a bo@example.com", "is not in"),
    ("user deactivate bo@example.com", "Deactivated"),
    ("user deactivate bo@example.com", "already deactivated"),
    ("user activate bo@example.com", "Activated"),
    ("user activate bo@example.com", "already active"),
    ("pipeline create housepricedrift newpipe housepricemodel", "1 model step"),
    ("pipeline create housepricedrift newpipe", "new version"),
    ("pipeline create housepricedrift otherpipe nosuchmodel", "No model"),
    ("pipeline copy housepricedrift newpipe newpipe", "already exists"),
    ("status housepricedrift newpipe", "not deployed"),
    ("assay disable 1", "is now inactive"),
    ("assay disable 1", "is already inactive"),
    ("assay enable 1", "is now active"),
    ("assay enable 1", "is already active"),
    (
        'assay create housepricedrift housepricepipe iopath="input 0 0" '
        f"baseline_start={DEMO_DAY_ONE:%Y-%m-%dT%H:%M:%SZ} "
        f"baseline_end={DEMO_DAY_ONE + timedelta(days=1):%Y-%m-%dT%H:%M:%SZ} alert=0.1",
        "Created assay",
    ),
    ("assay create housepricedrift housepricepipe alert=0.1", "baseline_start"),
    ("watch housepricedrift housepricepipe <#C42|ml-alerts>", "Watching housepricepipe"),
    ("watch housepricedrift housepricepipe", "already watched"),
    ("unwatch housepricedrift housepricepipe", "Stopped watching"),
    ("unwatch housepricedrift housepricepipe", "is not watched"),
    ("subscribe assay 1", "will go to"),
    ("subscribe assay 1 #alerts", "already has a subscription"),
    ("unsubscribe assay 1", "No more alerts"),
    ("subscribe assay 99", "No assay has id 99"),
    ("access grant <@UOPS|ops> operator", "now has the operator role"),
    ("access revoke <@UOPS|ops> operator", "no longer has the operator role"),
    ("access revoke <@UOPS|ops> operator", "did not have"),
    ("deploy housepricedrift housepricepipe new model", "created: Deploy pipeline"),
    # One pending change per pipeline: the deploy above is waiting.
    ("undeploy housepricedrift housepricepipe", "Request #1 to deploy housepricepipe is already"),
    ("undeploy housepricedrift newpipe", "is not deployed; there is nothing to undeploy"),
    ("deploy housepricedrift nosuchpipe", "Did you mean"),
    ("approvals", "Nothing is waiting for you"),
    ("approve 1", "someone else must decide it (four-eyes)"),
    ("reject 1 too risky", "someone else must decide it (four-eyes)"),
    ("approve 99", "There is no approval request #99"),
]
