"""`scripts/desk`: desk administration from the terminal.

scripts/desk create-user --role worker|admin --name NAME   (password on stdin)
scripts/desk migrate
scripts/desk nlu-export                                     annotated NLU inbox items -> training examples (database)
scripts/desk models                                         the model registry
scripts/desk train-model --admin NAME                       retrain (progress bar), evaluate
scripts/desk promote-model ID --admin NAME [--override WHY] put a model live, or roll back to it
"""

from __future__ import annotations

import argparse
import secrets
import sys
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from baken_core.gemeente import gemeente
from desk import model_cli
from handoff import auth
from handoff.config import settings
from handoff.store import teams
from handoff.store.db import create_engine, session_factory
from handoff.store.migrate import upgrade
from handoff.store.models import Role, Worker


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="scripts/desk", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-user", help="create a worker or admin; the password is read from stdin")
    create.add_argument("--name", required=True)
    create.add_argument("--role", choices=[r.value for r in Role], default=Role.worker.value)
    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser("ensure-demo", help="create the demo worker if there is no worker yet; print its login")
    commands.add_parser("nlu-export", help="store annotated NLU inbox items as training examples in the database")
    commands.add_parser("models", help="list the model registry")
    train = commands.add_parser("train-model", help="retrain and evaluate a new model")
    train.add_argument("--admin", required=True)
    promote = commands.add_parser("promote-model", help="put a model live (or roll back to it)")
    promote.add_argument("model_id", type=int)
    promote.add_argument("--admin", required=True)
    promote.add_argument("--override", default=None, help="reason to promote a model below the bar")
    args = parser.parse_args(argv)

    url = settings().database_url
    upgrade(url)
    if args.command == "migrate":
        print("Database is bijgewerkt.")
        return 0
    sessions = session_factory(create_engine(url))
    if args.command == "ensure-demo":
        return ensure_demo(sessions, Path(settings().secret_key_file).parent / "demo-login.txt")
    if args.command == "nlu-export":
        return model_cli.export(sessions)
    if args.command == "models":
        return model_cli.list_models(sessions)
    if args.command == "train-model":
        return model_cli.train(sessions, settings(), args.admin)
    if args.command == "promote-model":
        return model_cli.promote(sessions, settings(), args.model_id, args.admin, args.override)
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        with sessions.begin() as session:
            worker = auth.create_worker(session, args.name, password, Role(args.role))
            print(f"Medewerker {worker.name!r} ({worker.role.value}) is aangemaakt.")
    except auth.AuthError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    return 0


def ensure_demo(sessions: sessionmaker[Session], login_file: Path) -> int:
    """For `make run`: one demo worker with a random password, kept in var/demo-login.txt,
    and the fictional default teams of data/gemeente.yml (with the demo worker in each) when
    there are no teams yet."""
    with sessions.begin() as session:
        if session.scalar(select(func.count()).select_from(Worker)):
            demo = session.scalar(select(Worker).where(Worker.name == "demo"))
            teams.ensure_defaults(session, gemeente().get("default_teams") or [], [demo] if demo else [])
            if login_file.exists():
                print(login_file.read_text().strip())
            return 0
        password = secrets.token_urlsafe(12)
        demo = auth.create_worker(session, "demo", password, Role.admin)
        teams.ensure_defaults(session, gemeente().get("default_teams") or [], [demo])
    login_file.parent.mkdir(parents=True, exist_ok=True)
    login_file.write_text(f"Demo-login: naam 'demo', wachtwoord '{password}'\n")
    login_file.chmod(0o600)
    print(login_file.read_text().strip())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
