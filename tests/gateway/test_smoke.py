from tests.support import TestOrg

VIEWER = "{ viewer { user { name handle role teams { name } } organization { slug } } }"


async def test_viewer_returns_the_authenticated_user(org: TestOrg) -> None:
    # when
    data = await org.ok(VIEWER, as_="manager")
    # then
    assert data["viewer"]["user"] == {"name": "Manager Test", "handle": "manager", "role": "MANAGER", "teams": [{"name": "North"}]}
