"""What the soak test's users do: reads, writes, deploy and undeploy requests decided by a
second user (Approve, Reject with its dialog, or `reject ID REASON`), and subscriptions toggled,
over the drift demo and a few more pipelines, each watched into the alert channel."""

from __future__ import annotations

import random
import threading

from bench.soak_load import Driver, request_id_in
from emulator.seed import PIPELINE, WORKSPACE
from tests.helpers.emulators import Emulator

ALERTS = "CALERTS"
PIPELINES = [f"soakpipe{i}" for i in range(4)]
READS = [
    f"status {WORKSPACE} {PIPELINE}",
    f"pipelines {WORKSPACE}",
    "approvals",
    "audit 3",
    "workspaces",
    f"assays {WORKSPACE} {PIPELINE}",
]


class Traffic:
    def __init__(
        self,
        driver: Driver,
        emu: Emulator,
        rng: random.Random,
        requesters: list[str],
        approvers: list[str],
        seed: int,
    ) -> None:
        self.driver, self.emu, self.rng, self.seed = driver, emu, rng, seed
        self.requesters, self.approvers = requesters, approvers
        self.busy: set[str] = set()
        self.lock = threading.Lock()
        self.subscribed = False
        self.requests = self.creates = self.subscriptions = self.clock_moves = 0

    def prepare(self) -> None:
        """The extra pipelines (never deployed), every pipeline watched, the assay subscribed."""
        for name in PIPELINES:
            self.emu.new_demo_pipeline(name)
        for name in [PIPELINE, *PIPELINES]:
            self.driver.reply(
                self.driver.command(f"watch {WORKSPACE} {name} <#{ALERTS}|a>", "UREQ1")
            )
        self._toggle_subscription()

    def one(self, r: float) -> None:
        """One user action, chosen by `r` in [0, 1)."""
        user = self.rng.choice(self.requesters + self.approvers)
        if r < 0.35:
            self.driver.reply(self.driver.command(self.rng.choice(READS), user))
        elif r < 0.45:
            n = self.driver.ledger.number()
            self.driver.reply(self.driver.command(f"workspace create soak-{self.seed}-{n}", user))
            self.creates += 1
        elif r < 0.92:
            self._rollout()
        else:
            self._toggle_subscription()

    def _toggle_subscription(self) -> None:
        with self.lock:
            if "subscription" in self.busy:
                return
            self.busy.add("subscription")
        try:
            assert self.emu.demo is not None
            verb = "unsubscribe" if self.subscribed else "subscribe"
            where = "" if self.subscribed else f" <#{ALERTS}|a>"
            text = f"{verb} assay {self.emu.demo['assay_id']}{where}"
            reply = self.driver.reply(self.driver.command(text, self.rng.choice(self.requesters)))
            if reply is not None and ":x:" not in reply and "warning" not in reply:
                self.subscribed = not self.subscribed
            self.subscriptions += 1
        finally:
            with self.lock:
                self.busy.discard("subscription")

    def _rollout(self) -> None:
        with self.lock:
            free = [p for p in [PIPELINE, *PIPELINES] if p not in self.busy]
            if not free:
                return
            pipeline = self.rng.choice(free)
            self.busy.add(pipeline)
        try:
            self._decide(pipeline)
        finally:
            with self.lock:
                self.busy.discard(pipeline)

    def _decide(self, pipeline: str) -> None:
        try:
            deployed = self.emu.live_deployment(pipeline) is not None
        except (AssertionError, OSError):
            return  # the harness's own look was faulted: another time
        action = "undeploy" if deployed else "deploy"
        requester = self.rng.choice(self.requesters)
        approver = self.rng.choice(self.approvers)
        sent = self.driver.command(f"{action} {WORKSPACE} {pipeline} soak", requester)
        self.requests += 1
        request_id = request_id_in(self.driver.reply(sent))
        if request_id is None:
            return
        r = self.rng.random()
        if r < 0.65:
            self.driver.reply(self.driver.click(True, request_id, approver))
        elif r < 0.9:
            click = self.driver.click(False, request_id, approver)
            if self.driver.dialog_opened(click):
                before = self.driver.ephemerals(approver)
                dialog = self.driver.reject_dialog(request_id, approver, "soak test says no")
                self.driver.dialog_answered(dialog, before)
        else:
            self.driver.reply(self.driver.command(f"reject {request_id} soak says no", approver))
