from tests.platform.world import World


def test_label_one_item_end_to_end(world: World) -> None:
    owner = world.user("owner")
    pid = world.project(owner)
    world.import_records(owner, pid, [{"id": "a", "text": "good"}])
    task = world.next(owner, pid).json()
    assert task["data"] == {"text": "good"}
    r = world.submit(owner, pid, task["item_id"], {"sentiment": "pos"}, key="k")
    assert r.status_code == 201
    assert world.next(owner, pid).status_code == 204


def test_api_docs_are_served_without_a_cdn(world: World) -> None:
    page = world.client.get("/docs")
    assert page.status_code == 200 and "/static-offline-docs/swagger-ui-bundle.js" in page.text
    assert "cdn." not in page.text and "https://" not in page.text.split("<body>")[-1]
    assert world.client.get("/static-offline-docs/swagger-ui-bundle.js").status_code == 200
    assert world.client.get("/openapi.json").json()["info"]["title"] == "labelloop"


def test_health_needs_no_token_and_everything_else_does(world: World) -> None:
    assert world.client.get("/api/health").json()["status"] == "ok"
    r = world.client.get("/api/projects")
    assert r.status_code == 401 and r.json()["error"]["type"] == "unauthenticated"


def test_a_rating_scale_with_words_is_stored_and_read_back(world: World) -> None:
    """The docs' own example: JSON has text keys, the scale's points are integers."""
    owner = world.user()
    schema = {"fields": [{"name": "text"}],
              "questions": [{"name": "sure", "type": "rating", "min": 1, "max": 5,
                             "labels": {1: "guessing", "5": "certain"}}]}
    r = world.client.post("/api/projects", json={"name": "rated", "label_schema": schema}, headers=owner.headers)
    assert r.status_code == 201, r.text
    got = world.client.get(f"/api/projects/{r.json()['id']}", headers=owner.headers).json()
    assert got["label_schema"]["questions"][0]["labels"] == {"1": "guessing", "5": "certain"}
