"""The response shapes of the MLOps API tutorial, and a checker for them.

A shape is a dict (exactly these keys; `MayLack` marks a key some records omit), a one-item
list (every element has that shape), `Each` (a dict whose values all have one shape), or a
type / tuple of types for a leaf. NONE stands for JSON null.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NONE = type(None)


@dataclass(frozen=True)
class MayLack:
    shape: Any


@dataclass(frozen=True)
class Each:
    shape: Any


def check_shape(value: Any, shape: Any, where: str = "$") -> None:
    if isinstance(shape, MayLack):
        shape = shape.shape
    if isinstance(shape, dict):
        assert isinstance(value, dict), f"{where}: expected an object, got {value!r}"
        required = {k for k, v in shape.items() if not isinstance(v, MayLack)}
        assert required <= set(value) <= set(shape), (
            f"{where}: keys {sorted(value)} but the tutorial has {sorted(shape)}"
        )
        for key, item in value.items():
            check_shape(item, shape[key], f"{where}.{key}")
    elif isinstance(shape, Each):
        assert isinstance(value, dict), f"{where}: expected an object, got {value!r}"
        for key, item in value.items():
            check_shape(item, shape.shape, f"{where}[{key!r}]")
    elif isinstance(shape, list):
        assert isinstance(value, list), f"{where}: expected a list, got {value!r}"
        for index, item in enumerate(value):
            check_shape(item, shape[0], f"{where}[{index}]")
    else:
        # bool is an int in Python; the tutorial never mixes them, so keep them apart.
        ok = isinstance(value, shape) and not (
            isinstance(value, bool) and bool not in _types(shape)
        )
        assert ok, f"{where}: expected {shape}, got {value!r}"


def _types(shape: Any) -> tuple[type, ...]:
    return shape if isinstance(shape, tuple) else (shape,)


USER = {
    "access": {
        "impersonate": bool,
        "manageGroupMembership": bool,
        "manage": bool,
        "mapRoles": bool,
        "view": bool,
    },
    "createdTimestamp": int,
    "disableableCredentialTypes": list,
    "email": MayLack(str),
    "emailVerified": bool,
    "enabled": bool,
    "id": str,
    "notBefore": int,
    "requiredActions": list,
    "username": str,
}
WORKSPACE = {
    "id": int,
    "name": str,
    "created_at": str,
    "created_by": str,
    "archived": bool,
    "models": [int],
    "pipelines": [int],
}
MODEL = {"id": int, "name": str, "owner_id": str, "created_at": str, "updated_at": str}
MODEL_VERSION = {
    "sha": str,
    "models_pk_id": int,
    "model_version": str,
    "owner_id": str,
    "model_id": str,
    "id": int,
    "file_name": str,
    "image_path": (str, NONE),
}
UPLOADED = {"insert_models": {"returning": [{"models": [{"id": int}]}]}}
ENGINE = {
    "ip": (str, NONE),
    "name": str,
    "status": str,
    "reason": (str, NONE),
    "details": [str],
    "pipeline_statuses": (dict, NONE),
    "model_statuses": (dict, NONE),
}
ENGINE_LB = {"ip": str, "name": str, "status": str, "reason": (str, NONE), "details": [str]}

TUTORIAL_SHAPES: dict[str, Any] = {
    "users/query": {"users": Each(USER)},
    "users/activate": {},
    "users/deactivate": {},
    "workspaces/list": {"workspaces": [WORKSPACE]},
    "workspaces/create": {"workspace_id": int},
    "workspaces/add_user": {},
    "workspaces/list_users": {"users": [{"user_id": str, "user_type": str}]},
    "workspaces/remove_user": {"affected_rows": int},
    "models/upload": UPLOADED,
    "models/upload_stream": UPLOADED,
    "models/list": {"models": [MODEL]},
    "models/get_by_id": {
        "id": int,
        "owner_id": str,
        "workspace_id": int,
        "name": str,
        "updated_at": str,
        "created_at": str,
        "model_config": (dict, NONE),
    },
    "models/list_versions": [MODEL_VERSION],
    "models/get_config_by_id": {"model_config": (dict, NONE)},
    "models/get": {**MODEL, "models": [MODEL_VERSION]},
    "pipelines/create": {
        "pipeline_pk_id": int,
        "pipeline_variant_pk_id": int,
        "pipeline_variant_version": str,
    },
    "pipelines/copy": {
        "pipeline_pk_id": int,
        "pipeline_variant_pk_id": int,
        "pipeline_version": (str, NONE),
        "deployment": (dict, NONE),
    },
    "pipelines/deploy": {"id": int},
    "status/get_deployment": {
        "status": str,
        "details": [str],
        "engines": [ENGINE],
        "engine_lbs": [ENGINE_LB],
        "sidekicks": list,
    },
    "admin/get_pipeline_external_url": {"url": str},
    "pipelines/undeploy": {},
    "features/list": {"features": Each(str), "name": str, "is_auth_enabled": bool},
}
