"""Load trained models in half the time: Rasa 3.6 builds each TensorFlow model (DIET, TED)
by running one training step on one example before it loads the weights, and it traces
that step into a TensorFlow graph first. On this 2-core machine the tracing took about 20
seconds per model (44 s for a Baken model; measured 2026-11-28), paid on every model load:
by the Rasa server when a model is promoted or rolled back, and by every evaluation.

`install()` makes that one step run eagerly (no tracing; the weights it produces are
overwritten by the trained ones straight after), then switches the model back to graph
mode, so prediction is traced and as fast as before. The parse results are identical
(tests/baken_nlu/test_fast_load.py compares them). Fine-tuning loads are left to Rasa.

Installed by `baken_nlu.components` (imported by every Rasa process that loads a Baken
model) and by `baken_nlu.model_loader`. Only for the Rasa version it was written for.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)
SUPPORTED = "3.6."
_installed = False


def install() -> bool:
    """Patch RasaModel.load once; False when this Rasa version is not the one it fits."""
    global _installed
    if _installed:
        return True
    import rasa
    import tensorflow as tf
    from rasa.utils.tensorflow import models

    if not rasa.__version__.startswith(SUPPORTED):
        log.warning("fast model loading not installed: Rasa %s", rasa.__version__)
        return False
    original = models.RasaModel.load.__func__

    def load(
        cls: Any,
        model_file_name: str,
        model_data_example: Any,
        predict_data_example: Any = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        config = kwargs.get("config", {})
        if finetune_mode or config.get("run_eagerly"):
            return original(
                cls, model_file_name, model_data_example, predict_data_example, finetune_mode, *args, **kwargs
            )
        model = cls(*args, **kwargs)
        model.compile(optimizer=tf.keras.optimizers.Adam(config.get("learning_rate", 0.001)), run_eagerly=True)
        model.fit(models.RasaBatchDataGenerator(model_data_example, batch_size=1), verbose=False)
        model.run_eagerly = False  # prediction goes back to a traced graph
        model.load_weights(model_file_name)
        if predict_data_example:
            model.run_inference(predict_data_example)
        return model

    models.RasaModel.load = classmethod(load)
    models.RasaModel._baken_original_load = original
    _installed = True
    return True


def uninstall() -> None:
    """Put Rasa's own loader back (for the comparison test)."""
    global _installed
    from rasa.utils.tensorflow import models

    original = getattr(models.RasaModel, "_baken_original_load", None)
    if original is not None:
        models.RasaModel.load = classmethod(original)
    _installed = False
