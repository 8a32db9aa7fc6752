"""The learning loop: messages the assistant was unsure about (`nlu_inbox`), annotated by
an admin (`nlu_inbox_api`), exported into the training data (`training_export`), trained in
the background (`training_job`), registered, gated and promoted (`model_registry`,
`promotion`, `registry_api`). `intent_catalog` reads what each intent means."""
