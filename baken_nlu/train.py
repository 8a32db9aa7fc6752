"""`make train`: build the spaCy pipeline if needed, then train the Rasa model.

Prints the training time and where it went (baken_nlu/train_timing.py); Rasa skips the parts
whose inputs did not change.

With `--spacy-dir DIR` (the desk's retraining does this) the spaCy pipeline is built into
`DIR/<fingerprint of its sources>` and the model is trained with a copy of the config that
points there: each model keeps the entity patterns it was trained with, so rolling back to
an older model also rolls back its patterns.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import yaml

from baken_core.paths import PROJECT_ROOT, data_dir
from baken_nlu.spacy_pipeline import ensure_pipeline, source_fingerprint
from baken_nlu.train_timing import node_timings, summary


def pinned_config(config: Path, spacy_dir: Path, out: Path) -> Path:
    """A copy of `config` whose SpacyNLP loads a pipeline built for this training only."""
    pipeline = ensure_pipeline(spacy_dir / source_fingerprint()).resolve()
    loaded = yaml.safe_load(config.read_text(encoding="utf-8"))
    for component in loaded.get("pipeline") or []:
        if str(component.get("name", "")).split(".")[-1] == "SpacyNLP":
            component["model"] = str(pipeline)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(loaded, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(PROJECT_ROOT / "models"))
    parser.add_argument("--name", default="baken")
    parser.add_argument("--config", default=str(PROJECT_ROOT / "config.yml"))
    parser.add_argument("--force", action="store_true", help="retrain even if nothing changed")
    parser.add_argument("--spacy-dir", help="build the spaCy pipeline for this model under this folder")
    args = parser.parse_args(argv)

    config = args.config
    if args.spacy_dir:
        # Not build/spacy_nl_baken: models trained earlier load that one, with their patterns.
        config = str(pinned_config(Path(args.config), Path(args.spacy_dir), Path(args.out) / f"{args.name}.config.yml"))
    else:
        ensure_pipeline()
    from rasa.model_training import train  # heavy import
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.INFO)  # Rasa's structlog prints every rule-policy step at debug level

    started = time.monotonic()
    with node_timings() as seconds:
        result = train(
            domain=str(PROJECT_ROOT / "domain"),
            config=config,
            training_files=[str(data_dir())],
            output=args.out,
            fixed_model_name=args.name,
            force_training=args.force,
        )
    elapsed = time.monotonic() - started
    if result.code != 0 or not result.model:
        print(f"Training failed (code {result.code}).", file=sys.stderr)
        return 1
    if seconds:  # empty when nothing had to be trained
        print("\n".join(summary(seconds, elapsed)))
    print(f"Model: {result.model} ({elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
