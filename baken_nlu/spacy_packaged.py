"""Rasa's SpacyNLP, but the trained model carries its own copy of the spaCy pipeline.

Rasa 3.6's SpacyNLP only names a pipeline (`model:` in config.yml) and loads it from that name
or path wherever the model runs. Baken's pipeline is built from code and data
(baken_nlu/spacy_pipeline.py), and a model the desk retrains gets a pipeline of its own with
the phrases an admin marked (baken_nlu/train.py `--spacy-dir`). By path, such a model loads
only on the machine that trained it: a Rasa server on another machine, which downloads the
model from the desk (MODELS_STORE=database), would not find the pipeline.

This component is trainable: its training step copies the pipeline folder into the model
(its own resource, about 4 MB), and at prediction time the pipeline is loaded from that copy.
The copy is a cached training output like any other, so Rasa restores it from its cache when
nothing changed. Models trained before (without the copy) still load from the path.

Three things Rasa decides, and this code follows:
- Rasa unpacks a model into a temporary folder, builds every node, and deletes the folder:
  the provider node loads the pipeline when it is built, not when it is first asked;
- the provider node that hands the loaded pipeline to the tokenizer and the entity extractor
  is named `provide_<component><index>` and gets a resource of that name, while the training
  step writes to `train_<component><index>` (rasa/engine/recipes/default_recipe.py); the
  provider reads the training step's resource by that name;
- SpacyTokenizer and SpacyEntityExtractor find their provider by the class name "SpacyNLP",
  so this class has that name; importing this module registers it under that name.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, Dict

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.utils import spacy_utils
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.training_data.training_data import TrainingData

PIPELINE = "spacy_pipeline"
"""The copy's folder inside the component's resource."""
PROVIDER_PREFIX = "provide_"
TRAIN_PREFIX = "train_"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MODEL_LOADER, DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER],
    is_trainable=True,
    model_from="SpacyNLP",
)
class SpacyNLP(spacy_utils.SpacyNLP):
    """Provides the spaCy pipeline, from the model's own copy once trained (see the module)."""

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: SpacyModel | None = None,
    ) -> None:
        super().__init__(model, {**self.get_default_config(), **config})
        self._model: SpacyModel | None = model
        self._storage = model_storage
        self._resource = resource

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SpacyNLP:
        """The provider node loads the pipeline now; the others need none (the training step
        copies a folder, the processing step gets the pipeline from the provider)."""
        component = cls(config, model_storage, resource)
        if resource.name.startswith(PROVIDER_PREFIX):
            # now, not in `provide`: Rasa deletes the unpacked model once every node is loaded
            component._model = component._load_pipeline()
        return component

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SpacyNLP:
        return cls.create(config, model_storage, resource, execution_context)

    def train(self, training_data: TrainingData, model: SpacyModel | None = None) -> Resource:
        """Copies the pipeline named in the config into the model."""
        source = Path(str(self._config.get("model") or ""))
        if not (source / "config.cfg").is_file():
            raise ValueError(f"SpacyNLP: no spaCy pipeline folder at {source!s} (run `make spacy`)")
        with self._storage.write_to(self._resource) as directory:
            shutil.copytree(source, Path(directory) / PIPELINE)
        return self._resource

    def provide(self) -> SpacyModel:
        if self._model is None:  # only provider nodes are asked, and they loaded it in `create`
            raise RuntimeError("SpacyNLP: provide() on a node that did not load the pipeline")
        return self._model

    def packed_resource(self) -> Resource:
        """Where the training step put the copy (the provider's resource has another name)."""
        name = self._resource.name
        if name.startswith(PROVIDER_PREFIX):
            name = TRAIN_PREFIX + name[len(PROVIDER_PREFIX) :]
        return Resource(name)

    def _load_pipeline(self) -> SpacyModel:
        name = str(self._config.get("model") or "")
        try:
            with self._storage.read_from(self.packed_resource()) as directory:
                packed = Path(directory) / PIPELINE
                if packed.is_dir():  # spaCy reads every file while it loads
                    return self._loaded(str(packed), name)
        except ValueError:  # no copy: being trained now, or a model trained before the copy
            pass
        return self._loaded(name, name)

    def _loaded(self, path: str, name: str) -> SpacyModel:
        """The pipeline at `path`, under `name`: what Rasa's cache fingerprints, not a temporary path."""
        loaded = self.load_model(path)
        self.ensure_proper_language_model(loaded.model)
        return SpacyModel(model=loaded.model, model_name=name)
