"""Typed views of pipelines, their versions and the deployments their listings name, in both
generations' shapes (a deployment's own status: deployment_models.py).

The tutorial-era emulator lists a pipeline with its versions and live deployment inside
`pipeline`; today's Wallaroo lists `{pipeline, workspace, plateau_topic, deployment?,
pipeline_version?}` and keeps the versions behind pipelines/list_pipeline_versions. A listed
deployment is read defensively: its fields are barely documented, so one the bot cannot read
is "unknown" (and asked about another way), never a failed listing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, ValidationError

from bot.wallaroo.model_steps import ModelStep, model_steps_in
from bot.wallaroo.models import WallarooModel


def _int_or_none(value: Any) -> Any:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str_or_none(value: Any) -> Any:
    return value if isinstance(value, str) else None


LooseInt = Annotated[int | None, BeforeValidator(_int_or_none)]
LooseStr = Annotated[str | None, BeforeValidator(_str_or_none)]


class _Unknown:
    """What a listing says about a deployment it does not describe readably."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()


class ListedDeployment(WallarooModel):
    id: int
    deploy_id: str
    deployed: bool | None = None  # None: the listing does not say
    # Which version it serves, where the listing says: the pk (tutorial era) or the UUID.
    pipeline_version_id: LooseInt = None
    pipeline_version: LooseStr = None


class ListedPipelineVersion(WallarooModel):
    """A pipeline version as the bot deploys it: its UUID, and on tutorial-era instances
    (whose listing carries `pipeline_versions`) the integer pk pipelines/deploy took then."""

    version: str  # a UUID
    id: int | None = None  # pipeline_version_pk_id; only the tutorial-era listing has it
    created_at: str | None = None
    # The live deployment list_pipeline_versions shows on this version, if it shows one.
    deployment: ListedDeployment | None = None
    # Its definition, `{"steps": [...]}`, where the answer carries it: today's
    # `pipeline_version.steps` (LegacyPipelineVersion), the seed listing's `definition`.
    definition: Any = None

    @property
    def model_steps(self) -> list[ModelStep] | None:
        """The models it runs; None when Wallaroo did not say."""
        return model_steps_in(self.definition)


@dataclass(frozen=True)
class VersionHistory:
    """A pipeline's versions, newest first, and which of them its live deployment runs.

    People name a version by its number by age, as Helm numbers releases: 1 is the first
    version ever made, the newest has the highest, and making a version renumbers none. Both
    generations list every version (list_pipeline_versions takes no page; the SDK reads them
    all too), so the number is the version's place in that whole list, oldest first. Were
    Wallaroo to drop an old version the numbers would close up; what the bot stores and
    deploys is always the UUID, and a number is read against the list of that moment.
    """

    versions: list[ListedPipelineVersion]
    live: ListedDeployment | None  # the deployment serving the pipeline now, if any
    live_index: int | None = None  # where the live version is in `versions`, when known

    @property
    def latest(self) -> ListedPipelineVersion | None:
        return self.versions[0] if self.versions else None

    def number_at(self, index: int) -> int:
        """The number by age of `versions[index]` (1 = the oldest)."""
        return len(self.versions) - index

    def index_of_number(self, number: int) -> int | None:
        """Where version `number` (by age) is in `versions`; None if there is no such one."""
        return len(self.versions) - number if 1 <= number <= len(self.versions) else None

    @property
    def live_number(self) -> int | None:
        return None if self.live_index is None else self.number_at(self.live_index)

    @property
    def live_version(self) -> ListedPipelineVersion | None:
        return None if self.live_index is None else self.versions[self.live_index]

    @property
    def live_key(self) -> str | None:
        """The live version as a request stores it: its UUID, else (the tutorial's instances)
        its pk as text; None when nothing is live or which version is cannot be told."""
        live = self.live_version
        if live is None:
            return None
        return live.version or (str(live.id) if live.id is not None else None)


def read_deployment(raw: Any) -> ListedDeployment | _Unknown | None:
    """A listed deployment object: live, not live (`deployed: false`), or UNKNOWN."""
    if raw is None:
        return None
    try:
        deployment = ListedDeployment.model_validate(raw)
    except ValidationError:
        return UNKNOWN
    if deployment.deployed is None:
        return UNKNOWN
    return deployment if deployment.deployed else None


class ListedPipeline(WallarooModel):
    id: int
    name: str
    created_at: str | None = None
    updated_at: str | None = None
    # The tutorial-era emulator's extension, newest first; today's listing has neither.
    pipeline_versions: list[ListedPipelineVersion] = []
    deployment: Any = None

    @property
    def latest_version(self) -> ListedPipelineVersion | None:
        """The newest of the tutorial-era `pipeline_versions` (None on today's listing)."""
        return self.pipeline_versions[0] if self.pipeline_versions else None


class ListedWorkspace(WallarooModel):
    id: int
    name: str
    archived: bool = False
    created_by: str | None = None
    created_at: str | None = None


class PipelineListing(WallarooModel):
    pipeline: ListedPipeline
    workspace: ListedWorkspace
    plateau_topic: str | None = None
    # Today's fields, kept raw and read through the properties below.
    deployment: Any = None
    pipeline_version: Any = None

    @property
    def listed_deployment(self) -> ListedDeployment | _Unknown | None:
        """The live deployment as the listing shows it: one, None (not deployed), or UNKNOWN
        when the listing does not say readably (ask admin/get_pipeline_external_url then)."""
        if self.deployment is not None:
            return read_deployment(self.deployment)
        if "deployment" in self.pipeline.model_fields_set:
            # The tutorial-era extension always names the deployment; null means none.
            return read_deployment(self.pipeline.deployment)
        return UNKNOWN

    @property
    def listed_version(self) -> str | None:
        """Today's `pipeline_version.version` UUID, if the listing gives a readable one."""
        if isinstance(self.pipeline_version, dict):
            return _str_or_none(self.pipeline_version.get("version"))
        return None

    @property
    def lists_versions(self) -> bool:
        """Whether this is the tutorial-era emulator's listing, versions included."""
        return "pipeline_versions" in self.pipeline.model_fields_set


class PipelineListings(WallarooModel):
    pipelines: list[PipelineListing]


class _VersionOfPipeline(WallarooModel):
    id: LooseStr = None  # the pipeline's NAME, not an int
    version: str  # what the bot deploys by
    created_at: LooseStr = None
    steps: Any = None  # typed as an object: the version's definition, `{"steps": [...]}`


class _VersionListing(WallarooModel):
    pipeline_version: _VersionOfPipeline
    deployment: Any = None


class PipelineVersionListings(WallarooModel):
    """pipelines/list_pipeline_versions: items shaped as list_pipelines' ones."""

    pipeline_versions: list[_VersionListing]

    def newest_first(self) -> list[ListedPipelineVersion]:
        versions = [
            ListedPipelineVersion(
                version=item.pipeline_version.version,
                created_at=item.pipeline_version.created_at,
                deployment=_live_or_none(read_deployment(item.deployment)),
                definition=item.pipeline_version.steps,
            )
            for item in self.pipeline_versions
        ]
        return by_creation_newest_first(versions)


def by_creation_newest_first(versions: list[ListedPipelineVersion]) -> list[ListedPipelineVersion]:
    """`versions` newest first by their creation times, where every one has a readable one
    (the order of an answer is not documented; the times are), else as answered. Ties keep
    the answer's order. Numbers by age (VersionHistory) follow this order."""
    stamps = [stamp for v in versions if (stamp := _instant(v.created_at)) is not None]
    if len(stamps) != len(versions):
        return list(versions)
    order = sorted(range(len(versions)), key=stamps.__getitem__, reverse=True)
    return [versions[i] for i in order]


def _live_or_none(found: ListedDeployment | _Unknown | None) -> ListedDeployment | None:
    return found if isinstance(found, ListedDeployment) else None


def _instant(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class PipelineCopied(WallarooModel):
    pipeline_pk_id: int
    pipeline_variant_pk_id: int
    pipeline_version: str | None = None
    deployment: Any | None = None


class PipelineCreated(WallarooModel):
    pipeline_pk_id: int
    pipeline_variant_pk_id: int
    pipeline_variant_version: str
