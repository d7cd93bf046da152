"""While the app runs, what it was made of is out of the cyclic collector's reach (gc.freeze):
a full collection walked it all and stalled every request in flight. At shutdown it is given
back, so that an app made and dropped is collected."""

from __future__ import annotations

import gc

from app.core.config import Settings
from app.main import create_app


async def test_the_app_is_frozen_while_it_runs_and_given_back_after(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url))
    assert _collectable(app.router)
    async with app.router.lifespan_context(app):
        frozen = gc.get_freeze_count()
        # The routes, models and the engine's pool at least: tens of thousands of objects.
        assert frozen > 10_000
        assert not _collectable(app.router)  # in the permanent generation
    assert gc.get_freeze_count() == 0
    assert _collectable(app.router)


def _collectable(thing: object) -> bool:
    """Whether the collector's generations (not the frozen one) hold `thing`."""
    return any(o is thing for o in gc.get_objects())
