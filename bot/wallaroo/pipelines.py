"""Pipelines and deployments: create, copy, list, versions, deploy, undeploy, status, URL.

Two generations answer here. Today's Wallaroo lists versions with
pipelines/list_pipeline_versions and deploys by version UUID; the tutorial-era emulator
answers that call 404, lists versions inside list_pipelines and deploys by the version's
integer pk. The client asks the new way first and remembers the answer.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

from bot.wallaroo.calls import ApiCaller
from bot.wallaroo.deployment_models import DeploymentCreated, DeploymentStatus, ExternalUrl
from bot.wallaroo.errors import WallarooBadResponse, WallarooNotFound
from bot.wallaroo.pipeline_models import (
    ListedDeployment,
    ListedPipelineVersion,
    PipelineCopied,
    PipelineCreated,
    PipelineListing,
    PipelineListings,
    PipelineVersionListings,
    VersionHistory,
    by_creation_newest_first,
)

EXTERNAL_URL_CALL = "admin/get_pipeline_external_url"
VERSIONS_CALL = "pipelines/list_pipeline_versions"


def deployment_from_url(url: str) -> ListedDeployment:
    """The external URL ends in /infer/{deploy_id}-{deployment id}/{pipeline}: where the
    MLOps API tells which deployment serves a pipeline when the listing does not."""
    parts = urlsplit(url).path.rstrip("/").split("/")
    deploy_id, _, number = parts[-2].rpartition("-") if len(parts) >= 2 else ("", "", "")
    if not deploy_id or not number.isdigit():
        raise WallarooBadResponse(f"an inference URL I cannot read: {url}", path=EXTERNAL_URL_CALL)
    return ListedDeployment(id=int(number), deploy_id=deploy_id, deployed=True)


def live_index(versions: list[ListedPipelineVersion], live: ListedDeployment) -> int | None:
    """Which version the deployment runs, where a listing says: the tutorial-era listing by
    its pk, a listing naming the UUID, or list_pipeline_versions showing the deployment on
    the version it runs. None when none says (the engines' status may)."""
    for index, version in enumerate(versions):
        if live.pipeline_version_id is not None and version.id == live.pipeline_version_id:
            return index
        if live.pipeline_version is not None and version.version == live.pipeline_version:
            return index
    for index, version in enumerate(versions):
        if version.deployment is not None and version.deployment.id == live.id:
            return index
    return None


class PipelineCalls(ApiCaller):
    # Whether pipelines/list_pipeline_versions exists here: None until the first answer.
    _lists_versions: bool | None = None

    async def list_pipelines(self, workspace_id: int | None = None) -> list[PipelineListing]:
        """Pipelines with their workspace; all the caller may see when workspace_id is None.

        pipelines/list_pipelines is not in the tutorial; its shape is the one Wallaroo's SDK
        reads, and the tutorial offers no other way to learn pipeline names.
        """
        body = {} if workspace_id is None else {"workspace_id": workspace_id}
        found = await self._read("pipelines/list_pipelines", body, PipelineListings)
        return found.pipelines

    async def find_listed_pipeline(
        self, workspace_id: int, pipeline_id: int
    ) -> PipelineListing | None:
        """Pipeline `pipeline_id` as its workspace's listing shows it now; None if gone."""
        for listing in await self.list_pipelines(workspace_id):
            if listing.pipeline.id == pipeline_id:
                return listing
        return None

    # Versions

    async def list_pipeline_versions(
        self, workspace_id: int, listing: PipelineListing
    ) -> list[ListedPipelineVersion]:
        """The pipeline's versions, all of them, newest first. Today's instances answer
        list_pipeline_versions (it takes no page: the whole list); a tutorial-era one answers
        404 and lists them all in `listing`. Both are ordered by creation time alike, so the
        numbers by age (VersionHistory) mean the same in both generations."""
        if self._lists_versions is not False:
            body = {"pipeline_id": listing.pipeline.name, "workspace_id": workspace_id}
            try:
                found = await self._read(VERSIONS_CALL, body, PipelineVersionListings)
            except WallarooNotFound:
                if not listing.lists_versions:
                    raise  # neither way answers: say so rather than guess
                self._lists_versions = False
            else:
                self._lists_versions = True
                return found.newest_first()
        return by_creation_newest_first(listing.pipeline.pipeline_versions)

    async def latest_pipeline_version(
        self, workspace_id: int, listing: PipelineListing
    ) -> ListedPipelineVersion | None:
        versions = await self.list_pipeline_versions(workspace_id, listing)
        return versions[0] if versions else None

    async def version_history(self, workspace_id: int, listing: PipelineListing) -> VersionHistory:
        """The versions, newest first, and which one the live deployment runs: where the
        listings say (see `live_index`), else the version the engines report running."""
        versions = await self.list_pipeline_versions(workspace_id, listing)
        live = await self.live_deployment(workspace_id, listing)
        if live is None:
            return VersionHistory(versions, None)
        index = live_index(versions, live)
        if index is None:
            try:
                status = await self.get_deployment_status(live.deploy_id, live.id)
            except WallarooNotFound:
                return VersionHistory(versions, None)  # undeployed between the two calls
            running = status.running_versions  # empty while the engines start
            index = next((i for i, v in enumerate(versions) if v.version in running), None)
        return VersionHistory(versions, live, index)

    # Live deployments

    async def live_deployment(
        self, workspace_id: int, listing: PipelineListing
    ) -> ListedDeployment | None:
        """The deployment serving the pipeline now, or None: from the listing when it says
        readably, else from the external inference URL (404: not deployed)."""
        listed = listing.listed_deployment
        if listed is None or isinstance(listed, ListedDeployment):
            return listed
        try:
            url = await self.get_pipeline_external_url(workspace_id, listing.pipeline.name)
        except WallarooNotFound:
            return None
        return deployment_from_url(url)

    async def live_deployments(
        self, workspace_id: int, pipeline_ids: set[int] | None = None
    ) -> dict[int, ListedDeployment | None]:
        """The live deployment of each listed pipeline (of those in `pipeline_ids`, if given).
        A pipeline missing from the answer is missing from the workspace's listing."""
        listings = [
            listing
            for listing in await self.list_pipelines(workspace_id)
            if pipeline_ids is None or listing.pipeline.id in pipeline_ids
        ]
        found = await asyncio.gather(*(self.live_deployment(workspace_id, x) for x in listings))
        return {listing.pipeline.id: live for listing, live in zip(listings, found, strict=True)}

    # Writes

    async def create_pipeline(
        self, workspace_id: int, name: str, definition: dict[str, Any] | None = None
    ) -> PipelineCreated:
        """Create pipeline `name`, or a new version of it if the name exists."""
        body = {"pipeline_id": name, "workspace_id": workspace_id, "definition": definition or {}}
        return await self._write("pipelines/create", body, PipelineCreated)

    async def copy_pipeline(
        self,
        workspace_id: int,
        source_pipeline_id: int,
        new_name: str,
        *,
        deploy: str | None = None,
        engine_config: dict[str, Any] | None = None,
        pipeline_version: str | None = None,
    ) -> PipelineCopied:
        """The tutorial's copy. Absent from today's API: expect WallarooNotFound there."""
        body: dict[str, Any] = {
            "name": new_name,
            "workspace_id": workspace_id,
            "source_pipeline": source_pipeline_id,
        }
        optional = {
            "deploy": deploy,
            "engine_config": engine_config,
            "pipeline_version": pipeline_version,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        return await self._write("pipelines/copy", body, PipelineCopied)

    async def deploy_pipeline(
        self,
        pipeline_id: int,
        pipeline_version_pk_id: int | None,
        deploy_id: str,
        *,
        pipeline_version: str | None = None,
        models: list[dict[str, Any]] | None = None,
        model_ids: list[int] | None = None,
        engine_config: dict[str, Any] | None = None,
    ) -> int:
        """Deploy a pipeline version as `deploy_id`; answers the deployment's int id. The
        version is its UUID (`pipeline_version`, today's way) or its integer pk (the
        tutorial's, for instances that list versions only that way): exactly one."""
        if (pipeline_version is None) == (pipeline_version_pk_id is None):
            raise ValueError("give exactly one of pipeline_version or pipeline_version_pk_id")
        body: dict[str, Any] = {"deploy_id": deploy_id, "pipeline_id": pipeline_id}
        optional = {
            "pipeline_version": pipeline_version,
            "pipeline_version_pk_id": pipeline_version_pk_id,
            "models": models,
            "model_ids": model_ids,
            "engine_config": engine_config,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        created = await self._write("pipelines/deploy", body, DeploymentCreated)
        return created.id

    async def undeploy_pipeline(self, pipeline_id: int, deployment_id: int) -> None:
        body = {"pipeline_id": pipeline_id, "deployment_id": deployment_id}
        await self._write("pipelines/undeploy", body)

    # Status

    async def get_deployment_status(self, deploy_id: str, deployment_id: int) -> DeploymentStatus:
        """Status of a deployment (flat or `info`-nested engines, read as one view);
        WallarooNotFound once it has been undeployed."""
        body = {"name": f"{deploy_id}-{deployment_id}"}
        return await self._read("status/get_deployment", body, DeploymentStatus)

    async def get_pipeline_external_url(self, workspace_id: int, pipeline_name: str) -> str:
        body = {"workspace_id": workspace_id, "pipeline_name": pipeline_name}
        found = await self._read(EXTERNAL_URL_CALL, body, ExternalUrl)
        return found.url
