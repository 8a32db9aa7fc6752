"""`scripts/desk`: desk administration from the terminal.

scripts/desk create-user --role worker|admin --name NAME   (password on stdin)
scripts/desk migrate
"""

from __future__ import annotations

import argparse
import sys

from handoff import auth
from handoff.db import create_engine, session_factory
from handoff.migrate import upgrade
from handoff.models import Role
from handoff.settings import settings


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/desk", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-user", help="create a worker or admin; the password is read from stdin")
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=[r.value for r in Role], default=Role.worker.value)
    commands.add_parser("migrate", help="bring the database schema up to date")
    args = parser.parse_args(argv)

    url = settings().database_url
    upgrade(url)
    if args.command == "migrate":
        print("Database is bijgewerkt.")
        return 0
    password = sys.stdin.readline().rstrip("\r\n")
    sessions = session_factory(create_engine(url))
    try:
        with sessions.begin() as session:
            worker = auth.create_worker(session, args.name, password, Role(args.role))
            print(f"Medewerker {worker.name!r} ({worker.role.value}) is aangemaakt.")
    except auth.AuthError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
