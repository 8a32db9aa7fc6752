"""The learning loop: messages the assistant was unsure about (`nlu_inbox`), annotated by
an admin (`nlu_inbox_api`), kept as training examples in the database (`training_export`),
merged with data/ into a copy of the job's own (`training_data`) and trained in the
background (`training_job`), registered, gated and promoted (`model_registry`,
`promotion`, `registry_api`). `intent_catalog` reads what each intent means."""
