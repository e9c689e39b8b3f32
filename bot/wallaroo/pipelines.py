"""Pipelines and deployments: create, copy, list, deploy, undeploy, status, external URL."""

from __future__ import annotations

from typing import Any

from bot.wallaroo.calls import ApiCaller, expect, ignore_body
from bot.wallaroo.models import (
    DeploymentCreated,
    DeploymentStatus,
    ExternalUrl,
    PipelineCopied,
    PipelineCreated,
    PipelineListing,
    PipelineListings,
)


class PipelineCalls(ApiCaller):
    async def list_pipelines(self, workspace_id: int | None = None) -> list[PipelineListing]:
        """Pipelines with their workspace; all the caller may see when workspace_id is None.

        pipelines/list_pipelines is not in the tutorial; its shape is the one Wallaroo's SDK
        reads, and the tutorial offers no other way to learn pipeline names.
        """
        body = {} if workspace_id is None else {"workspace_id": workspace_id}
        found = await self._call(
            "pipelines/list_pipelines", body, read_only=True, parse=expect(PipelineListings)
        )
        return found.pipelines

    async def find_listed_pipeline(
        self, workspace_id: int, pipeline_id: int
    ) -> PipelineListing | None:
        """Pipeline `pipeline_id` as its workspace's listing shows it now; None if gone."""
        for listing in await self.list_pipelines(workspace_id):
            if listing.pipeline.id == pipeline_id:
                return listing
        return None

    async def create_pipeline(
        self, workspace_id: int, name: str, definition: dict[str, Any] | None = None
    ) -> PipelineCreated:
        """Create pipeline `name`, or a new version of it if the name exists."""
        body = {"pipeline_id": name, "workspace_id": workspace_id, "definition": definition or {}}
        return await self._call(
            "pipelines/create", body, read_only=False, parse=expect(PipelineCreated)
        )

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
        return await self._call(
            "pipelines/copy", body, read_only=False, parse=expect(PipelineCopied)
        )

    async def deploy_pipeline(
        self,
        pipeline_id: int,
        pipeline_version_pk_id: int,
        deploy_id: str,
        *,
        models: list[dict[str, Any]] | None = None,
        model_ids: list[int] | None = None,
        engine_config: dict[str, Any] | None = None,
    ) -> int:
        """Deploy a pipeline version as `deploy_id`; answers the deployment's int id."""
        body: dict[str, Any] = {
            "deploy_id": deploy_id,
            "pipeline_version_pk_id": pipeline_version_pk_id,
            "pipeline_id": pipeline_id,
        }
        optional = {"models": models, "model_ids": model_ids, "engine_config": engine_config}
        body.update({key: value for key, value in optional.items() if value is not None})
        created = await self._call(
            "pipelines/deploy", body, read_only=False, parse=expect(DeploymentCreated)
        )
        return created.id

    async def undeploy_pipeline(self, pipeline_id: int, deployment_id: int) -> None:
        body = {"pipeline_id": pipeline_id, "deployment_id": deployment_id}
        await self._call("pipelines/undeploy", body, read_only=False, parse=ignore_body)

    async def get_deployment_status(self, deploy_id: str, deployment_id: int) -> DeploymentStatus:
        """Status of a deployment; WallarooNotFound once it has been undeployed."""
        return await self._call(
            "status/get_deployment",
            {"name": f"{deploy_id}-{deployment_id}"},
            read_only=True,
            parse=expect(DeploymentStatus),
        )

    async def get_pipeline_external_url(self, workspace_id: int, pipeline_name: str) -> str:
        found = await self._call(
            "admin/get_pipeline_external_url",
            {"workspace_id": workspace_id, "pipeline_name": pipeline_name},
            read_only=True,
            parse=expect(ExternalUrl),
        )
        return found.url
