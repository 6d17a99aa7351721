"""A command that sends commands, all in one unit of work: all or nothing.

Run it: ``uv run python -m examples.nested_commands``. What happens:

1. `RegisterTeamCommand` adds a team, then sends one `EnrolPlayerCommand` per player through
   the mediator. Sent while a command is being handled, each is a **nested** command: it
   joins the same unit of work (inside a savepoint) instead of opening its own, and only the
   outer command commits - once, for the team and all its players.
2. The second team names a player who already plays for the first. Enrolling him raises;
   the exception leaves the outer command too, and the whole unit of work rolls back: the
   second team and the players enrolled before the failure are never stored.

The handlers never open a transaction or commit: the mediator does, around the root command.
Install: ``cqrs-ddd-core[sqlalchemy]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from cqrs_ddd_core.adapters.sqlalchemy.engine import create_engine
from cqrs_ddd_core.adapters.sqlalchemy.migrate import upgrade
from cqrs_ddd_core.adapters.sqlalchemy.repository import SqlAlchemyRepository
from cqrs_ddd_core.adapters.sqlalchemy.unit_of_work import SqlAlchemyUnitOfWork
from cqrs_ddd_core.cqrs.command import Command
from cqrs_ddd_core.cqrs.mediator import Mediator, get_current_uow
from cqrs_ddd_core.cqrs.registry import HandlerRegistry
from cqrs_ddd_core.cqrs.response import CommandResponse
from cqrs_ddd_core.domain.aggregate import AggregateRoot
from cqrs_ddd_core.ports.bus import ICommandBus
from cqrs_ddd_core.primitives.exceptions import DomainError

MIGRATIONS = Path(__file__).with_name("migrations")
Say = Callable[[str], None]

# --- the domain -------------------------------------------------------------------------------


class PlayerTakenError(DomainError):
    pass


class Team(AggregateRoot):
    def __init__(self, id: str, players: int = 0) -> None:
        super().__init__(id)
        self.players = players


class Player(AggregateRoot):
    def __init__(self, id: str, team_id: str) -> None:
        super().__init__(id)
        self.team_id = team_id


# --- storage ----------------------------------------------------------------------------------

metadata = MetaData()
teams = Table(
    "teams",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("players", Integer, nullable=False),
)
players = Table(
    "players",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("team_id", String(64), nullable=False),
)


class TeamRepository(SqlAlchemyRepository[Team]):
    table = teams

    def _to_row(self, aggregate: Team) -> dict[str, Any]:
        return {"players": aggregate.players}

    def _from_row(self, row: RowMapping) -> Team:
        return Team(row["id"], row["players"])


class PlayerRepository(SqlAlchemyRepository[Player]):
    table = players

    def _to_row(self, aggregate: Player) -> dict[str, Any]:
        return {"team_id": aggregate.team_id}

    def _from_row(self, row: RowMapping) -> Player:
        return Player(row["id"], row["team_id"])


class UnitOfWork(SqlAlchemyUnitOfWork):
    @property
    def teams(self) -> TeamRepository:
        return TeamRepository(self.session)

    @property
    def players(self) -> PlayerRepository:
        return PlayerRepository(self.session)


def current_uow() -> UnitOfWork:
    uow = get_current_uow()
    assert isinstance(uow, UnitOfWork), "handlers run inside the mediator's unit of work"
    return uow


# --- the commands -----------------------------------------------------------------------------


class RegisterTeamCommand(Command[str]):
    team_id: str
    players: list[str]


class EnrolPlayerCommand(Command[str]):
    player_id: str
    team_id: str


class RegisterTeamHandler:
    """Gets the bus (the mediator) in its constructor: it sends the nested commands."""

    def __init__(self, bus: ICommandBus, say: Say, commits: list[str]) -> None:
        self.bus = bus
        self.say = say
        self.commits = commits

    async def handle(self, command: RegisterTeamCommand) -> CommandResponse[str]:
        uow = current_uow()
        uow.on_commit(lambda: self.commits.append(command.team_id))  # runs once, if it commits
        await uow.teams.add(Team(command.team_id))
        self.say(f"  team {command.team_id} added (not committed)")
        for player_id in command.players:
            await self.bus.send(EnrolPlayerCommand(player_id=player_id, team_id=command.team_id))
        return CommandResponse(result=command.team_id)


class EnrolPlayerHandler:
    def __init__(self, say: Say) -> None:
        self.say = say

    async def handle(self, command: EnrolPlayerCommand) -> CommandResponse[str]:
        uow = current_uow()
        taken = await uow.players.find(command.player_id)
        if taken is not None:
            raise PlayerTakenError(f"{command.player_id} already plays for {taken.team_id}")
        await uow.players.add(Player(command.player_id, command.team_id))
        team = await uow.teams.get(command.team_id)
        team.players += 1
        await uow.teams.save(team)
        self.say(f"  {command.player_id} enrolled in {command.team_id} (same unit of work)")
        return CommandResponse(result=command.player_id)


# --- wiring and the run -------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    teams: dict[str, int]
    """Each stored team and its number of players."""
    players: int
    commits: int
    refusal: str


def league(engine: AsyncEngine, say: Say, commits: list[str]) -> Mediator:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    registry = HandlerRegistry()
    mediator = Mediator(registry, lambda: UnitOfWork(sessions))
    handler = RegisterTeamHandler(mediator, say, commits)
    registry.register_command_handler(RegisterTeamCommand, handler)
    registry.register_command_handler(EnrolPlayerCommand, EnrolPlayerHandler(say))
    return mediator


async def main(directory: Path, say: Say = print) -> Outcome:
    engine = create_engine(f"sqlite+aiosqlite:///{directory / 'league.db'}")
    try:
        await upgrade(engine, MIGRATIONS)
        commits: list[str] = []
        mediator = league(engine, say, commits)

        say("registering the reds: ana, ben, cai")
        await mediator.send(RegisterTeamCommand(team_id="reds", players=["ana", "ben", "cai"]))
        say(f"  committed once, for the team and its three players: {commits}")

        say("registering the blues: dia, eve, ben")
        refusal = ""
        try:
            await mediator.send(RegisterTeamCommand(team_id="blues", players=["dia", "eve", "ben"]))
        except PlayerTakenError as error:
            refusal = str(error)
            say(f"  refused: {refusal} - the blues, dia and eve are rolled back with it")

        async with engine.connect() as connection:
            stored = dict((await connection.execute(select(teams.c.id, teams.c.players))).all())
            count = (await connection.execute(select(func.count()).select_from(players))).scalar()
        outcome = Outcome(
            teams=stored, players=int(count or 0), commits=len(commits), refusal=refusal
        )
        say(f"stored: teams {outcome.teams}, {outcome.players} players; commits {commits}")
        return outcome
    finally:
        await engine.dispose()
