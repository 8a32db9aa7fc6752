"""`make train`: build the spaCy pipeline if needed, then train the Rasa model.

Prints the training time; Rasa skips the parts whose inputs did not change.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time

from baken_core.paths import PROJECT_ROOT, data_dir
from baken_nlu.spacy_pipeline import ensure_pipeline


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(PROJECT_ROOT / "models"))
    parser.add_argument("--name", default="baken")
    parser.add_argument("--config", default=str(PROJECT_ROOT / "config.yml"))
    parser.add_argument("--force", action="store_true", help="retrain even if nothing changed")
    args = parser.parse_args(argv)

    ensure_pipeline()
    from rasa.model_training import train  # heavy import
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.INFO)  # Rasa's structlog prints every rule-policy step at debug level

    started = time.monotonic()
    result = train(
        domain=str(PROJECT_ROOT / "domain"),
        config=args.config,
        training_files=[str(data_dir())],
        output=args.out,
        fixed_model_name=args.name,
        force_training=args.force,
    )
    elapsed = time.monotonic() - started
    if result.code != 0 or not result.model:
        print(f"Training failed (code {result.code}).", file=sys.stderr)
        return 1
    print(f"Model: {result.model} ({elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
