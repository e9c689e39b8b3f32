"""Bad input gets 400 naming the field, unknown ids 404, other users' workspaces 403;
and a refused request changes nothing."""

from __future__ import annotations

import pytest

from tests.helpers.emulators import Api, Emulator


@pytest.fixture
def admin(emulator: Emulator) -> Api:
    return emulator.admin()


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("users/invite", {}, "email"),
        ("users/invite", {"email": 42}, "email"),
        ("users/activate", {}, "email"),
        ("users/deactivate", {"mail": "x@y.io"}, "email"),
        ("users/query", {"user_ids": "abc"}, "user_ids"),
        ("workspaces/create", {}, "workspace_name"),
        ("workspaces/create", {"workspace_name": ["a"]}, "workspace_name"),
        ("workspaces/add_user", {"email": "a@b.io"}, "workspace_id"),
        ("workspaces/add_user", {"email": "a@b.io", "workspace_id": "one"}, "workspace_id"),
        (
            "workspaces/add_user",
            {"email": "a@b.io", "workspace_id": 1, "user_type": "boss"},
            "user_type",
        ),
        ("workspaces/list_users", {}, "workspace_id"),
        ("workspaces/remove_user", {"email": "a@b.io"}, "workspace_id"),
        ("models/list", {"workspace_id": "1"}, "workspace_id"),
        ("models/get_by_id", {}, "id"),
        ("models/list_versions", {"models_pk_id": 1}, "model_id"),
        ("models/get_config_by_id", {}, "model_id"),
        ("models/get", {"id": None}, "id"),
        ("pipelines/create", {"workspace_id": 1}, "pipeline_id"),
        ("pipelines/copy", {"name": "x", "workspace_id": 1}, "source_pipeline"),
        ("pipelines/deploy", {"deploy_id": "d", "pipeline_id": 1}, "pipeline_version_pk_id"),
        ("pipelines/undeploy", {"pipeline_id": 1}, "deployment_id"),
        ("status/get_deployment", {}, "name"),
        ("admin/get_pipeline_external_url", {"workspace_id": 1}, "pipeline_name"),
    ],
)
def test_missing_or_mistyped_field_is_named(admin: Api, path: str, body: dict, field: str) -> None:
    response = admin.post(path, body)
    assert response.status_code == 400, response.text
    error = response.json()
    assert set(error) == {"msg", "code"} and error["code"] == 400
    assert field in error["msg"]


def test_body_that_is_not_json_is_a_400(admin: Api) -> None:
    response = admin.post(
        "workspaces/create", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "JSON" in response.json()["msg"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("users/query", {"user_ids": ["00000000-0000-0000-0000-000000000000"]}),
        ("users/activate", {"email": "ghost@example.com"}),
        ("workspaces/list_users", {"workspace_id": 999}),
        ("workspaces/add_user", {"workspace_id": 999, "email": "admin@wallaroo.example"}),
        ("workspaces/add_user", {"workspace_id": 1, "email": "ghost@example.com"}),
        ("models/list", {"workspace_id": 999}),
        ("models/get_by_id", {"id": 999}),
        ("models/get", {"id": 999}),
        ("models/get_config_by_id", {"model_id": 999}),
        ("models/list_versions", {"model_id": "ghost", "models_pk_id": 999}),
        ("pipelines/create", {"pipeline_id": "p", "workspace_id": 999, "definition": {}}),
        ("pipelines/copy", {"name": "c", "workspace_id": 1, "source_pipeline": 999}),
        ("pipelines/deploy", {"deploy_id": "d", "pipeline_id": 999, "pipeline_version_pk_id": 1}),
        ("pipelines/undeploy", {"pipeline_id": 999, "deployment_id": 1}),
        ("status/get_deployment", {"name": "ghost-12"}),
        ("status/get_deployment", {"name": "no-number"}),
        ("admin/get_pipeline_external_url", {"workspace_id": 1, "pipeline_name": "ghost"}),
    ],
)
def test_unknown_ids_are_404(admin: Api, path: str, body: dict) -> None:
    response = admin.post(path, body)
    assert response.status_code == 404, response.text
    assert response.json()["code"] == 404


@pytest.mark.parametrize("name", ["1starts-with-digit", "has space", "under_score", "x/y", "ü"])
def test_invalid_pipeline_names_are_refused_and_nothing_is_created(admin: Api, name: str) -> None:
    response = admin.post(
        "pipelines/create", {"pipeline_id": name, "workspace_id": 1, "definition": {}}
    )
    assert response.status_code == 400
    assert "pipeline_id" in response.json()["msg"]
    assert admin.ok("workspaces/list")["workspaces"][0]["pipelines"] == []


def test_invalid_deploy_name_is_refused_and_nothing_is_deployed(
    emulator: Emulator, admin: Api
) -> None:
    created = admin.ok(
        "pipelines/create", {"pipeline_id": "p1", "workspace_id": 1, "definition": {}}
    )
    response = admin.post(
        "pipelines/deploy",
        {
            "deploy_id": "bad name!",
            "pipeline_id": created["pipeline_pk_id"],
            "pipeline_version_pk_id": created["pipeline_variant_pk_id"],
        },
    )
    assert response.status_code == 400 and "deploy_id" in response.json()["msg"]
    assert emulator.state.db.one("SELECT count(*) AS n FROM deployments")["n"] == 0


def test_duplicate_invite_is_an_error_and_adds_no_user(admin: Api) -> None:
    admin.ok("users/invite", {"email": "bo@example.com"})
    before = admin.ok("users/query")["users"]
    response = admin.post("users/invite", {"email": "bo@example.com"})
    assert response.status_code == 400
    assert "already exists" in response.json()["msg"]
    assert admin.ok("users/query")["users"] == before


def test_malformed_email_and_definition_are_400(admin: Api) -> None:
    assert admin.post("users/invite", {"email": "not-an-email"}).status_code == 400
    bad = admin.post(
        "pipelines/create", {"pipeline_id": "p", "workspace_id": 1, "definition": {"steps": "nope"}}
    )
    assert bad.status_code == 400 and "steps" in bad.json()["msg"]


def test_remove_user_needs_exactly_one_of_email_or_user_id(admin: Api) -> None:
    response = admin.post("workspaces/remove_user", {"workspace_id": 1})
    assert response.status_code == 400 and "email or user_id" in response.json()["msg"]


def test_last_owner_cannot_be_removed(admin: Api, emulator: Emulator) -> None:
    response = admin.post(
        "workspaces/remove_user", {"workspace_id": 1, "email": emulator.config.admin_email}
    )
    assert response.status_code == 400 and "last owner" in response.json()["msg"]


class TestNonAdminScope:
    @pytest.fixture
    def carol(self, emulator: Emulator, admin: Api) -> Api:
        admin.ok("users/invite", {"email": "carol@example.com", "password": "pw"})
        return emulator.api("carol@example.com", "pw")

    def test_sees_only_her_workspaces(self, admin: Api, carol: Api) -> None:
        admin.ok("workspaces/create", {"workspace_name": "team-a"})
        names = [w["name"] for w in carol.ok("workspaces/list")["workspaces"]]
        assert names == ["carol@example.com - Default Workspace"]
        assert len(admin.ok("workspaces/list")["workspaces"]) == 3

    def test_is_refused_other_workspaces(self, admin: Api, carol: Api) -> None:
        ws = admin.ok("workspaces/create", {"workspace_name": "team-a"})["workspace_id"]
        for path, body in [
            ("workspaces/list_users", {"workspace_id": ws}),
            ("models/list", {"workspace_id": ws}),
            ("pipelines/create", {"pipeline_id": "p", "workspace_id": ws, "definition": {}}),
            ("workspaces/add_user", {"workspace_id": ws, "email": "carol@example.com"}),
        ]:
            response = carol.post(path, body)
            assert response.status_code == 403, (path, response.text)
            assert response.json()["code"] == 403
        assert carol.post("workspaces/list", {"user_id": "someone-else"}).status_code == 403

    def test_may_not_manage_users(self, carol: Api) -> None:
        assert carol.post("users/invite", {"email": "dan@example.com"}).status_code == 403
        assert carol.post("users/deactivate", {"email": "dan@example.com"}).status_code == 403

    def test_collaborator_reads_but_only_owner_adds_members(
        self, emulator: Emulator, admin: Api, carol: Api
    ) -> None:
        ws = admin.ok("workspaces/create", {"workspace_name": "team-a"})["workspace_id"]
        admin.ok("workspaces/add_user", {"workspace_id": ws, "email": "carol@example.com"})
        assert carol.post("models/list", {"workspace_id": ws}).status_code == 200
        admin.ok("users/invite", {"email": "dan@example.com"})
        refused = carol.post(
            "workspaces/add_user", {"workspace_id": ws, "email": "dan@example.com"}
        )
        assert refused.status_code == 403 and "owner" in refused.json()["msg"]
