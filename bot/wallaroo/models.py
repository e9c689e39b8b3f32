"""Typed views of Wallaroo's responses, in the tutorial's shapes and field names.

Field names are the API's own (`createdTimestamp`, `model_id`), so what a handler reads matches
what the documentation shows. Every model keeps unknown fields (`extra="allow"`): newer servers
add fields, and dropping them would hide information from whoever renders the object.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, RootModel, ValidationError

from bot.wallaroo.errors import WallarooBadResponse


class WallarooModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


def _json_object_or_none(value: Any) -> Any:
    # The tutorial documents model_config as a string; servers send an object or null.
    if isinstance(value, str):
        return json.loads(value) if value.strip() else None
    return value


ModelConfigValue = Annotated[dict[str, Any] | None, BeforeValidator(_json_object_or_none)]


class User(WallarooModel):
    id: str
    username: str
    email: str | None = None  # service accounts and the built-in admin have none
    enabled: bool = True
    createdTimestamp: int  # epoch milliseconds
    emailVerified: bool = False
    access: dict[str, bool] = Field(default_factory=dict)
    notBefore: int = 0
    requiredActions: list[str] = Field(default_factory=list)
    disableableCredentialTypes: list[str] = Field(default_factory=list)


class InvitedUser(WallarooModel):
    user_id: str
    sent_email: bool = False


class Workspace(WallarooModel):
    id: int
    name: str
    created_at: str
    created_by: str
    archived: bool = False
    models: list[int] = Field(default_factory=list)
    pipelines: list[int] = Field(default_factory=list)


class WorkspaceUser(WallarooModel):
    user_id: str
    user_type: str  # "OWNER" or "COLLABORATOR"


class Model(WallarooModel):
    id: int
    name: str
    owner_id: str
    created_at: str
    updated_at: str


class ModelDetails(Model):
    workspace_id: int
    # `model_config` is pydantic's own attribute name, hence the alias.
    config: ModelConfigValue = Field(default=None, alias="model_config")


class ModelVersion(WallarooModel):
    sha: str
    models_pk_id: int
    model_version: str  # a UUID
    owner_id: str
    model_id: str  # the model's NAME, not its int id
    id: int
    file_name: str
    image_path: str | None = None


class ModelWithVersions(Model):
    models: list[ModelVersion] = Field(default_factory=list)


class PipelineCreated(WallarooModel):
    pipeline_pk_id: int
    pipeline_variant_pk_id: int
    pipeline_variant_version: str


class PipelineCopied(WallarooModel):
    pipeline_pk_id: int
    pipeline_variant_pk_id: int
    pipeline_version: str | None = None
    deployment: Any | None = None


class ListedPipelineVersion(WallarooModel):
    id: int  # what pipelines/deploy calls pipeline_version_pk_id
    version: str  # a UUID
    created_at: str | None = None


class ListedDeployment(WallarooModel):
    id: int
    deploy_id: str
    deployed: bool = True
    pipeline_version_id: int | None = None


class ListedPipeline(WallarooModel):
    id: int
    name: str
    created_at: str
    updated_at: str
    # Newest first. Optional: a server that leaves them out still lists, but cannot be
    # deployed through the bot.
    pipeline_versions: list[ListedPipelineVersion] = []
    deployment: ListedDeployment | None = None

    @property
    def latest_version(self) -> ListedPipelineVersion | None:
        return self.pipeline_versions[0] if self.pipeline_versions else None

    @property
    def live_deployment(self) -> ListedDeployment | None:
        """The deployment serving the pipeline now (a listed one may say `deployed: false`)."""
        return self.deployment if self.deployment is not None and self.deployment.deployed else None


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


class PipelineListings(WallarooModel):
    pipelines: list[PipelineListing]


class EngineStatus(WallarooModel):
    ip: str | None = None
    name: str
    status: str  # Pending, Running, Succeeded, Failed, Unknown
    reason: str | None = None
    details: list[str] = Field(default_factory=list)
    pipeline_statuses: dict[str, Any] | None = None
    model_statuses: dict[str, Any] | None = None


class EngineLbStatus(WallarooModel):
    ip: str | None = None
    name: str
    status: str
    reason: str | None = None
    details: list[str] = Field(default_factory=list)


class DeploymentStatus(WallarooModel):
    status: str  # Starting, Running, Error
    details: list[str] = Field(default_factory=list)
    engines: list[EngineStatus] = Field(default_factory=list)
    engine_lbs: list[EngineLbStatus] = Field(default_factory=list)
    sidekicks: list[Any] = Field(default_factory=list)


class Features(WallarooModel):
    features: dict[str, str] = Field(default_factory=dict)
    name: str
    is_auth_enabled: bool


class Token(WallarooModel):
    access_token: str = Field(repr=False)
    expires_in: int
    refresh_expires_in: int = 0  # 0 when there is no refresh token (client credentials)
    refresh_token: str | None = Field(default=None, repr=False)
    token_type: str = "Bearer"
    not_before_policy: int | None = Field(default=None, alias="not-before-policy")
    session_state: str | None = None
    scope: str | None = None

    def __repr_args__(self) -> Any:
        # Extra fields (an id_token, say) could be credentials too: show only the known safe ones.
        safe = ("expires_in", "refresh_expires_in", "token_type", "scope")
        return [(name, getattr(self, name)) for name in safe]


# Envelopes the client unwraps before handing objects out.


class UsersEnvelope(WallarooModel):
    users: dict[str, User]


class WorkspacesEnvelope(WallarooModel):
    workspaces: list[Workspace]


class WorkspaceCreated(WallarooModel):
    workspace_id: int


class WorkspaceUsersEnvelope(WallarooModel):
    users: list[WorkspaceUser]


class AffectedRows(WallarooModel):
    affected_rows: int


class _InsertedModelId(WallarooModel):
    id: int


class _InsertedModels(WallarooModel):
    models: list[_InsertedModelId] = Field(min_length=1)


class _InsertModelsReturning(WallarooModel):
    returning: list[_InsertedModels] = Field(min_length=1)


class ModelUploaded(WallarooModel):
    insert_models: _InsertModelsReturning

    @property
    def model_id(self) -> int:
        return self.insert_models.returning[0].models[0].id


class ModelVersionList(RootModel[list[ModelVersion]]):
    # models/list_versions answers a bare JSON list.
    pass


class ModelsEnvelope(WallarooModel):
    models: list[Model]


class ModelConfigEnvelope(WallarooModel):
    config: ModelConfigValue = Field(default=None, alias="model_config")


class DeploymentCreated(WallarooModel):
    id: int


class ExternalUrl(WallarooModel):
    url: str


T = TypeVar("T", bound=BaseModel)


def parse_response(model: type[T], data: Any, path: str) -> T:
    """Validate `data` as `model`, or raise WallarooBadResponse naming the first bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # Never the input values, and no chained ValidationError (whose text quotes them): a
        # token response is among the things validated here.
        first = exc.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "body"
        raise WallarooBadResponse(
            f"{where}: {first['msg']} ({exc.error_count()} problem(s))", path=path
        ) from None
