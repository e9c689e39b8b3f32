"""Model uploads: the two multipart shapes (the tutorial's form fields, today's `metadata` JSON
part) read as they stream in, their checks, and recording a stored file as a new version of its
model."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from pydantic import BaseModel, StrictInt, StrictStr, ValidationError
from starlette.requests import Request

from emulator.access import require_valid_name, workspace_for
from emulator.clock import iso
from emulator.errors import bad_request, describe_errors
from emulator.identity import CurrentUser, context
from emulator.model_files import StoredFile, store_stream
from emulator.multipart_stream import read_form
from emulator.state import EmulatorState

VISIBILITIES = ("public", "private")
# The `framework` values today's spec accepts (its Framework enum).
FRAMEWORKS = frozenset(
    {"custom", "keras", "mlflow", "onnx", "python", "pytorch", "sglang", "sklearn"}
    | {"tensorflow", "vllm", "xgboost"}
    | {
        f"hugging-face-{task}"
        for task in (
            "automatic-speech-recognition",
            "feature-extraction",
            "image-classification",
            "image-segmentation",
            "image-to-text",
            "object-detection",
            "question-answering",
            "sentiment-analysis",
            "stable-diffusion-text-2-img",
            "summarization",
            "text-classification",
            "text-generation",
            "translation",
            "zero-shot-classification",
            "zero-shot-image-classification",
            "zero-shot-object-detection",
        )
    }
)


class Conversion(BaseModel):
    framework: StrictStr
    requirements: list[StrictStr]
    python_version: StrictStr | None = None


class UploadMetadata(BaseModel):
    """Today's `metadata` part; the spec requires all four fields."""

    name: StrictStr
    visibility: StrictStr
    workspace_id: StrictInt
    conversion: Conversion
    input_schema: StrictStr | None = None  # base64 Arrow schemas, for upload_and_convert
    output_schema: StrictStr | None = None


class FormFields(BaseModel):
    """The tutorial's form fields (strings on the wire, so workspace_id is parsed leniently)."""

    name: str
    workspace_id: int
    visibility: str | None = None


@dataclass(frozen=True)
class UploadTarget:
    """Which model a file becomes a new version of, and how it was asked to be converted."""

    workspace_id: int
    name: str
    visibility: str
    conversion: Conversion | None = None


def has_target(state: EmulatorState, fields: dict[str, str]) -> bool:
    """Whether the fields read so far are enough to check the upload (before its file)."""
    if state.current_api and "metadata" in fields:
        return True
    return "name" in fields and "workspace_id" in fields


def parse_target(
    state: EmulatorState, caller: CurrentUser, fields: dict[str, str], converting: bool = False
) -> UploadTarget:
    """Either multipart shape's fields, checked: 400 naming the field, 404/403 for the
    workspace. `converting`: sent to upload_and_convert, which needs both schemas."""
    # The 2022 server knows only the form fields: a seed upload's `metadata` part is ignored.
    metadata = fields.get("metadata") if state.current_api else None
    conversion: Conversion | None = None
    parsed: UploadMetadata | None = None
    try:
        if metadata is not None:
            parsed = UploadMetadata.model_validate_json(metadata)
            conversion = parsed.conversion
            name, workspace_id, visibility = parsed.name, parsed.workspace_id, parsed.visibility
        else:
            tutorial = FormFields.model_validate(fields)
            name, workspace_id = tutorial.name, tutorial.workspace_id
            visibility = tutorial.visibility or "private"
    except ValidationError as exc:
        where = ("metadata",) if metadata is not None else ()
        errors = [{**e, "loc": (*where, *e.get("loc", ()))} for e in exc.errors()]
        raise bad_request(describe_errors(errors)) from exc
    target = check_upload(state, caller, workspace_id, name, visibility, conversion)
    if conversion is not None and conversion.framework not in FRAMEWORKS:
        raise bad_request(
            f"metadata.conversion.framework {conversion.framework!r} is not a known framework"
            " (e.g. onnx, tensorflow, pytorch, sklearn, python)"
        )
    if parsed is not None and conversion is not None:
        _check_route(parsed, conversion.framework, converting)
    return target


def _check_route(parsed: UploadMetadata, framework: str, converting: bool) -> None:
    """Conversion needs the model's schemas: Wallaroo's SDK sends both (base64 Arrow) for
    every framework it converts, and will not upload without them."""
    if converting and not (parsed.input_schema and parsed.output_schema):
        missing = "input_schema" if not parsed.input_schema else "output_schema"
        raise bad_request(f"metadata.{missing} is required to convert a {framework} model")


async def receive_upload(
    request: Request, converting: bool = False
) -> tuple[UploadTarget, str | None, StoredFile]:
    """A multipart upload read as it arrives: fields sent before the file part (as clients
    send them) are checked before any of the file is stored, and the file part is streamed
    to disk; fields after it are checked once it is stored (and the file removed if refused)."""
    state, caller = context(request)
    stored_files: list[StoredFile] = []

    async def sink(
        fields: dict[str, str], filename: str | None, data: AsyncIterator[bytes]
    ) -> tuple[UploadTarget | None, str | None, StoredFile]:
        known = has_target(state, fields)
        early = parse_target(state, caller, fields, converting) if known else None
        stored_files.append(await store_stream(state.model_dir, data))
        return early, filename, stored_files[-1]

    try:
        fields, received = await read_form(request, "file", sink)
    except BaseException:  # e.g. no closing boundary after the file: it is not kept
        for stored_file in stored_files:
            stored_file.path.unlink(missing_ok=True)
        raise
    if received is None:
        if has_target(state, fields):
            parse_target(state, caller, fields, converting)  # its problems first, as parsers do
        raise bad_request("file is required")
    target, filename, stored = received
    if target is None:
        try:
            target = parse_target(state, caller, fields, converting)
        except BaseException:
            stored.path.unlink(missing_ok=True)
            raise
    return target, filename, stored


def check_upload(
    state: EmulatorState,
    caller: CurrentUser,
    workspace_id: int,
    name: str,
    visibility: str | None,
    conversion: Conversion | None = None,
) -> UploadTarget:
    """The checks every upload gets, in the order the tutorial's server makes them."""
    workspace_for(state.db, caller, workspace_id)
    require_valid_name("name", name)
    visibility = visibility or "private"
    if visibility not in VISIBILITIES:
        raise bad_request(f"visibility must be 'public' or 'private', not {visibility!r}")
    return UploadTarget(workspace_id, name, visibility, conversion)


def record_upload(
    state: EmulatorState,
    caller: CurrentUser,
    target: UploadTarget,
    file_name: str,
    stored: StoredFile,
) -> dict:
    """Add the file as a new version of the target model (creating the model if new); all or
    nothing, and a refused write removes the stored file."""
    workspace_id, name, visibility = target.workspace_id, target.name, target.visibility
    db, now = state.db, iso(state.clock.now())
    try:
        with db.transaction():
            model = db.one(
                "SELECT id FROM models WHERE workspace_id = ? AND name = ?", (workspace_id, name)
            )
            if model is None:
                model_pk = db.insert(
                    "INSERT INTO models (workspace_id, name, owner_id, visibility, created_at,"
                    " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                    (workspace_id, name, caller.id, visibility, now, now),
                )
            else:
                model_pk = model["id"]
                db.execute("UPDATE models SET updated_at = ? WHERE id = ?", (now, model_pk))
            version_pk = db.insert(
                "INSERT INTO model_versions (models_pk_id, model_version, sha, file_name,"
                " file_path, size_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    model_pk,
                    str(uuid.uuid4()),
                    stored.sha256,
                    file_name,
                    str(stored.path),
                    stored.size,
                    now,
                ),
            )
            if target.conversion is not None:
                conversion = target.conversion
                db.execute(
                    "INSERT INTO model_conversions VALUES (?, ?, ?, ?)",
                    (
                        version_pk,
                        conversion.framework,
                        conversion.python_version,
                        json.dumps(conversion.requirements),
                    ),
                )
    except BaseException:
        stored.path.unlink(missing_ok=True)
        raise
    return {"insert_models": {"returning": [{"models": [{"id": model_pk}]}]}}
