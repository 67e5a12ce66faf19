def test_login_page_renders(client, db):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b'name="password"' in response.content


def test_world_builds(world):
    assert world.lead_responder.groups.count() == 1
