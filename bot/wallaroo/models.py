"""Typed views of Wallaroo's responses: the 2022 tutorial's shapes and today's (2024.4-2026).

Field names are the API's own (`createdTimestamp`, `model_id`), so what a handler reads matches
what the documentation shows. Every model keeps unknown fields (`extra="allow"`): newer servers
add fields, and dropping them would hide information from whoever renders the object. Fields
today's spec leaves unset are optional here; pipelines and deployments are in pipeline_models.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    ValidationError,
    model_validator,
)

from bot.wallaroo.errors import WallarooBadResponse


class WallarooModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


def none_as_empty_list(value: Any) -> Any:
    # A list endpoint with nothing to list may answer null or an empty body.
    return [] if value is None else value


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
    createdTimestamp: int | None = None  # epoch milliseconds
    emailVerified: bool = False
    access: dict[str, bool] = Field(default_factory=dict)
    notBefore: int = 0
    requiredActions: list[str] = Field(default_factory=list)
    disableableCredentialTypes: list[str] = Field(default_factory=list)


class InvitedUser(WallarooModel):
    """The tutorial answers `{user_id, sent_email}`, today's Wallaroo `{id, password}`. The
    password Wallaroo made up is dropped on arrival: it must never reach a reply or a log."""

    user_id: str = Field(validation_alias=AliasChoices("user_id", "id"))
    sent_email: bool = False
    password_issued: bool = False  # Wallaroo answered with a password the bot did not keep

    @model_validator(mode="before")
    @classmethod
    def _drop_password(cls, data: Any) -> Any:
        if isinstance(data, dict) and "password" in data:
            data = {k: v for k, v in data.items() if k != "password"}
            data["password_issued"] = True
        return data


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
    user_type: str | None = None  # "OWNER" or "COLLABORATOR"; today's answers may omit it


class Model(WallarooModel):
    id: int
    name: str
    owner_id: str
    workspace_id: int | None = None
    created_at: str | None = None
    updated_at: str | None = None


def _no_text_null(value: Any) -> Any:
    # Recorded answers give error_summary as null, a message, or the text "null".
    if isinstance(value, str) and value.strip().lower() in ("", "null", "none"):
        return None
    return value


class ListedModelVersion(WallarooModel):
    """One of today's models/list `model_versions[].model_version`, flattened with its
    `file_info`. `status`: ready, error, uploading, pending_/attempting_load_native|container."""

    id: int | None = None
    name: str | None = None
    status: str | None = None
    error_summary: Annotated[str | None, BeforeValidator(_no_text_null)] = None
    version: str | None = None  # file_info.version: the UUID models/get calls model_version
    file_name: str | None = None
    sha: str | None = None
    created_at: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _lift_file_info(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("file_info"), dict):
            return {**data["file_info"], **{k: v for k, v in data.items() if k != "file_info"}}
        return data


class ListedModel(Model):
    """A models/list item: the tutorial's flat model, or today's
    `{model: {...}, model_versions: [...], workspace: {...}}`, read as one flat view."""

    @model_validator(mode="before")
    @classmethod
    def _unnest(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("model"), dict):
            rest = {k: v for k, v in data.items() if k != "model"}
            return {**rest, **data["model"]}
        return data

    @property
    def versions(self) -> list[ListedModelVersion]:
        """Today's listed versions, oldest first (by id; the answer's order is not
        documented); none in the tutorial's listing. One the bot cannot read is left out
        rather than failing the listing: it only adds a status to what is shown."""
        raw = (self.model_extra or {}).get("model_versions")
        found = []
        for item in raw if isinstance(raw, list) else []:
            inner = item.get("model_version") if isinstance(item, dict) else None
            try:
                found.append(ListedModelVersion.model_validate(inner))
            except ValidationError:
                continue
        return sorted(found, key=lambda v: (v.id is None, v.id or 0))

    @property
    def latest_version(self) -> ListedModelVersion | None:
        return self.versions[-1] if self.versions else None


class ModelDetails(Model):
    # `model_config` is pydantic's own attribute name, hence the alias.
    config: ModelConfigValue = Field(default=None, alias="model_config")


class ModelVersion(WallarooModel):
    sha: str
    models_pk_id: int
    model_version: str  # a UUID
    owner_id: str
    model_id: str  # the model's NAME, not its int id
    id: int
    file_name: str | None = None
    image_path: str | None = None
    status: str | None = None  # today's list_versions adds it


class ModelWithVersions(Model):
    models: list[ModelVersion] = Field(default_factory=list)


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
    users: dict[str, User | None]  # today's answers may hold null for a user


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
    models: list[ListedModel]


class ModelConfigEnvelope(WallarooModel):
    config: ModelConfigValue = Field(default=None, alias="model_config")


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
