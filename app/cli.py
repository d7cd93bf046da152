"""The `conflictdb` command: migrate, seed, serve, create-key, list-keys, revoke-key, import,
link."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from app.core.config import Settings

cli = typer.Typer(
    help="conflictdb: a conflict-event database with a REST API.", no_args_is_help=True
)

DbOption = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides DATABASE_URL (default: the SQLite file)."),
]


def _settings(database_url: str | None) -> Settings:
    if database_url:
        return Settings(database_url=database_url)
    return Settings()


async def _seed(settings: Settings, seeds_dir: Path | None = None) -> str:
    from app.core.db import make_engine, make_sessionmaker

    engine = make_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            from app.seeding.loader import DEFAULT_SEEDS_DIR, load_seeds

            report = await load_seeds(session, seeds_dir or DEFAULT_SEEDS_DIR)
            return str(report)
    finally:
        await engine.dispose()


@cli.command()
def migrate(database_url: DbOption = None) -> None:
    """Apply all migrations, load the event types and the admin-1 units (idempotent)."""
    from app.core.migrations import migrate as migrate_to_head

    settings = _settings(database_url)
    typer.echo(migrate_to_head(settings.database_url))


@cli.command()
def seed(
    database_url: DbOption = None,
    seeds_dir: Annotated[Path | None, typer.Option(help="Folder of seed files.")] = None,
) -> None:
    """Load the seed report's events (idempotent: a second run changes nothing)."""
    settings = _settings(database_url)
    typer.echo(asyncio.run(_seed(settings, seeds_dir)))


def default_workers() -> int:
    """One worker per core this process may run on (cgroup CPU sets and taskset included)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="PORT", help="Port (or PORT).")] = 8000,
    database_url: DbOption = None,
    workers: Annotated[
        int | None,
        typer.Option(
            envvar="CONFLICTDB_WORKERS",
            help="Worker processes (default: one per CPU core this process may use).",
        ),
    ] = None,
) -> None:
    """Serve the API with uvicorn (keys and e-mail addresses redacted from its logs)."""
    import uvicorn
    from uvicorn.config import LOGGING_CONFIG
    from uvicorn.supervisors import Multiprocess

    from app.core.http import BoundedHttpToolsProtocol, NoDelayConfig, log_config

    if database_url:
        os.environ["DATABASE_URL"] = database_url
    settings = Settings()
    # What uvicorn.run does, with a listening socket whose connections get TCP_NODELAY.
    config = NoDelayConfig(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers or default_workers(),
        log_level="info",
        log_config=log_config(LOGGING_CONFIG),
        http=BoundedHttpToolsProtocol,
        # The bound on a request head (BoundedHttpToolsProtocol refuses a longer one with 431):
        # room for a long URL or large headers to be parsed, and refused with 414 / 431 by the
        # app, instead of the connection being dropped.
        h11_max_incomplete_event_size=settings.max_request_head_bytes,
    )
    if config.workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    server = uvicorn.Server(config)
    server.run()
    if not server.started:
        raise typer.Exit(3)  # uvicorn's STARTUP_FAILURE


@cli.command("create-key")
def create_key(
    name: Annotated[str, typer.Argument(help="Who or what the key is for.")],
    read_only: Annotated[bool, typer.Option("--read-only", help="No write rights.")] = False,
    database_url: DbOption = None,
) -> None:
    """Mint an API key; it is printed once and stored only as a hash."""
    from sqlalchemy.orm import Session

    from app.auth.service import mint_key
    from app.core.db import make_sync_engine

    settings = _settings(database_url)
    engine = make_sync_engine(settings.database_url)
    with Session(engine) as session, session.begin():
        minted = mint_key(session, name, can_write=not read_only)
    engine.dispose()
    rights = "read" if read_only else "read+write"
    typer.echo(f"{minted.key}\n# key {minted.id} for {name!r} ({rights}); shown once, keep it safe")


@cli.command("list-keys")
def list_keys(database_url: DbOption = None) -> None:
    """The API keys: id, prefix, name, rights, created, revoked (never the key itself)."""
    from sqlalchemy.orm import Session

    from app.auth.service import list_keys as all_keys
    from app.core.db import make_sync_engine

    engine = make_sync_engine(_settings(database_url).database_url)
    with Session(engine) as session:
        rows = all_keys(session)
        typer.echo("id\tprefix\tname\trights\tcreated_at\trevoked_at")
        for row in rows:
            rights = "read+write" if row.can_write else "read"
            revoked = row.revoked_at.isoformat() if row.revoked_at else "-"
            typer.echo(
                f"{row.id}\t{row.prefix}\t{row.name}\t{rights}\t"
                f"{row.created_at.isoformat()}\t{revoked}"
            )
    engine.dispose()


@cli.command("revoke-key")
def revoke_key(
    key: Annotated[str, typer.Argument(help="The key's id, its prefix, or the whole key.")],
    database_url: DbOption = None,
) -> None:
    """Revoke an API key: every request with it is refused (401) from now on."""
    from sqlalchemy.orm import Session

    from app.auth.service import revoke_key as revoke
    from app.core.db import make_sync_engine

    engine = make_sync_engine(_settings(database_url).database_url)
    with Session(engine) as session, session.begin():
        row = revoke(session, key)
        message = None
        if row is not None:
            revoked = row.revoked_at.isoformat() if row.revoked_at else ""
            message = f"key {row.id} ({row.name!r}) revoked at {revoked}"
    engine.dispose()
    if message is None:
        typer.echo(f"no single key matches {key!r} (see list-keys)", err=True)
        raise typer.Exit(1)
    typer.echo(message)


@cli.command("import")
def import_(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="The file to load.")
    ],
    format: Annotated[
        str,
        typer.Option(
            "--format", "-f", help="acled | ucdp | ndjson | json | acled-deletions (see docs)."
        ),
    ],
    dataset: Annotated[
        str | None,
        typer.Option(help="Dataset name of the natural key (default: acled, ucdp, or per row)."),
    ] = None,
    partial: Annotated[
        bool,
        typer.Option("--partial", help="Load the valid rows; by default one reject loads none."),
    ] = False,
    rejects: Annotated[
        Path | None,
        typer.Option(help="Write every reject and warning (line, column, value, reason) here."),
    ] = None,
    progress: Annotated[
        str, typer.Option(help="auto (a bar on a terminal) | bar | lines | none.")
    ] = "auto",
    chunk_size: Annotated[int, typer.Option(help="Rows per batch.", min=100)] = 20_000,
    rebuild_indexes: Annotated[
        str,
        typer.Option(
            help="auto | yes | no: drop the written tables' indexes and rebuild them at the end "
            "(auto: a load of >= 50,000 rows into at most half as many events)."
        ),
    ] = "auto",
    database_url: DbOption = None,
) -> None:
    """Import a file in one transaction: an upsert by natural key, all or nothing by default."""
    from app.imports.console import import_file

    if progress not in ("auto", "bar", "lines", "none"):
        raise typer.BadParameter("auto, bar, lines or none", param_hint="--progress")
    if rebuild_indexes not in ("auto", "yes", "no"):
        raise typer.BadParameter("auto, yes or no", param_hint="--rebuild-indexes")
    settings = _settings(database_url)
    code = import_file(
        settings.database_url,
        file,
        format,
        dataset=dataset,
        partial=partial,
        rejects_path=rejects,
        progress=progress,  # type: ignore[arg-type]
        chunk_size=chunk_size,
        bulk=None if rebuild_indexes == "auto" else rebuild_indexes == "yes",
    )
    raise typer.Exit(code)


@cli.command("link")
def link(
    date_from: Annotated[
        str | None, typer.Option(help="Only events ending on or after this day (YYYY-MM-DD).")
    ] = None,
    date_to: Annotated[
        str | None, typer.Option(help="Only events starting on or before this day.")
    ] = None,
    dataset: Annotated[
        list[str] | None, typer.Option(help="Only these datasets (repeat; two or more).")
    ] = None,
    spatial_km: Annotated[float, typer.Option(help="Spatial window, km.")] = 10.0,
    days: Annotated[int, typer.Option(help="Temporal window, days beyond precision.")] = 1,
    min_score: Annotated[float, typer.Option(help="Lowest score proposed (0..1).")] = 0.5,
    database_url: DbOption = None,
) -> None:
    """Propose links between events of different datasets (MELTT; docs/aggregation.md)."""
    from pydantic import ValidationError

    from app.links.commands import describe, run_link
    from app.links.schemas import ProposeParams

    try:
        params = ProposeParams(
            date_from=date_from,
            date_to=date_to,
            datasets=dataset or [],
            spatial_km=spatial_km,
            days=days,
            min_score=min_score,
        )
    except ValidationError as exc:
        raise typer.BadParameter(exc.errors()[0]["msg"]) from exc
    result = asyncio.run(run_link(_settings(database_url).database_url, params))
    typer.echo(describe(result))


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
