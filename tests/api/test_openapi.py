"""The OpenAPI document: every operation named and shown by example."""

from __future__ import annotations


def test_every_operation_has_an_id_and_an_example(client):
    document = client.get("/schema/openapi.json").json()

    operations = [
        (path, method, op)
        for path, item in document["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "delete"}
    ]
    assert len(operations) >= 7
    for path, method, operation in operations:
        assert operation.get("operationId"), (path, method)
        examples = []
        body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
        examples += list(body.get("examples", {}).values()) + body.get("schema", {}).get(
            "examples", []
        )
        for response in operation["responses"].values():
            for media in response.get("content", {}).values():
                examples += list(media.get("examples", {}).values())
        assert examples, f"{method.upper()} {path} has no example"


def test_submit_operation_documents_the_example_body_and_its_problems(client):
    submit = client.get("/schema/openapi.json").json()["paths"]["/v1/reports"]["post"]

    example = submit["requestBody"]["content"]["application/json"]["schema"]["examples"][0]
    assert example["subject"]["country"] == "KZ"
    assert {"201", "401", "403", "409", "413", "415", "422"} <= set(submit["responses"])
    assert "application/problem+json" in submit["responses"]["422"]["content"]
