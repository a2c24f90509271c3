import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def test_schema_is_valid_openapi_3(client):
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    validate(schema)
    for path in ["/api/v1/auth/token/", "/api/v1/me/", "/api/v1/states/", "/api/v1/desks/"]:
        assert path in schema["paths"], path


def test_interactive_docs_page(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


ERROR_STATUSES = ["400", "401", "403", "404", "409", "413", "415", "429", "503"]


@pytest.fixture
def schema(client):
    return client.get("/api/schema/?format=json").json()


def test_every_operation_declares_the_error_statuses_with_the_one_error_shape(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "message", "details"]
    operations = [
        (method, path, op)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if isinstance(op, dict) and "responses" in op
    ]
    assert len(operations) > 80
    for method, path, op in operations:
        for status in ERROR_STATUSES:
            body = op["responses"].get(status, {}).get("content", {}).get("application/json")
            assert body == {"schema": {"$ref": "#/components/schemas/Error"}}, (
                method,
                path,
                status,
            )


@pytest.mark.parametrize(
    "component, field",
    [
        ("Crisis", "latest_update"),
        ("CrisisDetail", "latest_update"),
        ("Desk", "state"),
        ("Task", "done_by"),
        ("TimelineEntry", "actor"),
        ("TimelineEntry", "desk"),
        ("ChannelEvent", "actor"),
        ("Version", "created_from"),
        ("Receipt", "read_by"),
    ],
)
def test_fields_that_can_be_null_are_declared_nullable(schema, component, field):
    assert schema["components"]["schemas"][component]["properties"][field].get("nullable"), (
        component,
        field,
    )


def test_the_catalogue_is_declared_as_the_array_it_returns(schema, client, django_user_model):
    declared = schema["paths"]["/api/v1/humanitarian/catalogue/"]["get"]["responses"]["200"]
    assert declared["content"]["application/json"]["schema"]["type"] == "array"
    client.force_login(django_user_model.objects.create_user("reader"))
    assert isinstance(client.get("/api/v1/humanitarian/catalogue/").json(), list)


def test_the_protocol_export_declares_both_of_its_encodings(schema):
    path = "/api/v1/protocols/{protocol_id}/versions/{number}/export/"
    content = schema["paths"][path]["get"]["responses"]["200"]["content"]
    assert set(content) == {"application/yaml", "application/json"}
