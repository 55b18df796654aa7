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
