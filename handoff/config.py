"""The desk's settings: one pydantic-settings class, read from the environment and `.env`."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from limits import parse
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_TOKEN_CHARS = 32
"""MODEL_SERVER_TOKEN's shortest length (e.g. python3 -c "import secrets; print(secrets.token_urlsafe(32))")."""


class DeskSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # SQLAlchemy URL; SQLite is the embedded default, PostgreSQL works the same.
    database_url: str = Field(default="sqlite:///var/baken.db")
    # How many desk processes share this database (behind one load balancer). More than one
    # needs PostgreSQL, SECRET_KEY from the environment, ATTACHMENTS_STORE=database and
    # Telegram in webhook mode; the desk refuses to start without them (README, "Scaling").
    desk_processes: int = Field(default=1, ge=1, le=256)
    # The Rasa server, started with --enable-api; several replicas separated by commas
    # ("http://rasa-1:5005,http://rasa-2:5005"): each conversation goes to one of them
    # (bot/rasa_pool.py), and to the next one while it is down.
    rasa_url: str = Field(default="http://localhost:5005")
    rasa_timeout_s: float = 10.0
    # While Rasa starts or loads a model, a citizen's message waits up to this long (and
    # hears "even geduld" after `rasa_patience_s`); only then is Rasa taken as down.
    rasa_wait_s: float = Field(default=60.0, ge=0.0, le=600.0)
    rasa_patience_s: float = Field(default=5.0, ge=0.0, le=600.0)
    # The recovery sweep: how often it looks for messages a crash left unanswered.
    sweep_interval_s: float = Field(default=5.0, gt=0.0, le=3600.0)
    # Rasa's conversations (its SQL tracker store, see scripts/rasa-endpoints): trackers of
    # conversations closed longer ago than this are deleted by the desk.
    rasa_tracker_url: str | None = None
    tracker_retention_hours: float = Field(default=24.0, ge=0.0, le=24.0 * 365)
    # Retention (handoff/store/retention.py; README "Privacy" gives the reasoning): days after
    # a conversation was closed that its attachments, its handoff summaries and case notes,
    # and the conversation itself are deleted; days an audit entry is kept.
    retention_conversation_days: int = Field(default=90, ge=1, le=3650)
    retention_summary_days: int = Field(default=30, ge=1, le=3650)
    retention_attachment_days: int = Field(default=30, ge=1, le=3650)
    retention_audit_days: int = Field(default=365, ge=30, le=3650)
    # The sites that embed the widget (comma-separated origins, "https://www.gemeente.nl");
    # the widget API answers those and the desk's own pages, no other site.
    widget_origins: str = ""
    # Limits (handoff/rate_limits.py; "10/minute", "20/hour", "5/15 minutes"). With several
    # desk processes, LIMITS_STORAGE_URL=redis://… makes them count together.
    limits_storage_url: str = "memory://"
    limit_messages_per_citizen: str = "20/minute"
    limit_messages_per_ip: str = "120/minute"
    limit_new_citizens_per_ip: str = "30/hour"
    limit_failed_logins_per_name: str = "5/15 minutes"
    limit_failed_logins_per_ip: str = "30/15 minutes"
    limit_streams_per_visitor: int = Field(default=4, ge=1, le=100)
    limit_streams_per_ip: int = Field(default=40, ge=1, le=10_000)
    limit_streams_per_worker: int = Field(default=6, ge=1, le=100)
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    """Bigger request bodies are refused (413) before anything parses them."""
    # Signs the workers' session cookies. Without it, one is generated once into the file.
    secret_key: SecretStr | None = None
    secret_key_file: str = "var/desk-secret"
    # The admins' NLU inbox: a message is "unsure" below this confidence, or when the
    # runner-up intent is within the margin; items are deleted after the retention.
    nlu_inbox_confidence: float = Field(default=0.6, ge=0.0, le=1.0)
    nlu_inbox_margin: float = Field(default=0.15, ge=0.0, le=1.0)
    nlu_inbox_retention_days: int = Field(default=30, ge=1, le=365)
    content_check_max_age_days: int = Field(default=180, ge=1, le=3650)
    """The admin dashboard lists knowledge entries checked longer ago than this."""
    content_expiry_warning_days: int = Field(default=60, ge=1, le=365)
    """... and facts that expire within this many days."""
    # Retraining from the admin page: the config to train with, where models go, which file
    # Rasa loads at start (a promoted model is copied there), the held-out set that judges
    # a new model, and how much accuracy it may lose against the live model.
    training_config: str = "config.yml"
    models_dir: str = "models/registry"
    live_model_path: str = "models/baken.tar.gz"
    evaluation_set: str = "data/evaluation/heldout.jsonl"
    promote_margin: float = Field(default=0.02, ge=0.0, le=1.0)
    # Where trained models' files live: "folder" (MODELS_DIR, the embedded default: Rasa loads
    # them by path) or "database" (in chunks; every desk process serves every model to Rasa
    # servers on other machines). The internal model server (GET /internal/models/...) answers
    # only with MODEL_SERVER_TOKEN; with MODEL_SERVER_URL (the desk as Rasa reaches it, e.g.
    # http://balancer:8000) promotion tells Rasa to download the model from there.
    models_store: Literal["folder", "database"] = "folder"
    model_server_url: str | None = None
    model_server_token: SecretStr | None = None
    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    # Photos and documents from citizens: stored under random names in the folder, or in the
    # database ("database": every desk process serves them; needed with several processes).
    # Bigger ones are refused.
    attachments_store: Literal["folder", "database"] = "folder"
    attachments_dir: str = "var/attachments"
    attachments_max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)

    @field_validator(
        "secret_key",
        "telegram_token",
        "telegram_webhook_url",
        "telegram_webhook_secret",
        "rasa_tracker_url",
        "model_server_url",
        "model_server_token",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`TELEGRAM_TOKEN=` (as compose.yaml passes a variable nobody set) means: not set."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "limit_messages_per_citizen",
        "limit_messages_per_ip",
        "limit_new_citizens_per_ip",
        "limit_failed_logins_per_name",
        "limit_failed_logins_per_ip",
    )
    @classmethod
    def _a_rate(cls, value: str) -> str:
        parse(value)  # the library's own notation, checked at start
        return value

    @model_validator(mode="after")
    def _parts_go_before_the_whole(self) -> DeskSettings:
        """A summary or attachment kept longer than its conversation would outlive it."""
        for name in ("retention_summary_days", "retention_attachment_days"):
            if getattr(self, name) > self.retention_conversation_days:
                raise ValueError(f"{name.upper()} must not be longer than RETENTION_CONVERSATION_DAYS")
        return self

    @model_validator(mode="after")
    def _model_server_needs_a_token(self) -> DeskSettings:
        """Models in the database are served over HTTP, and a model is the whole assistant:
        never without a secret of the operator's own."""
        serving = self.models_store == "database" or self.model_server_url is not None
        token = self.model_server_token.get_secret_value() if self.model_server_token else ""
        if serving and len(token) < MIN_TOKEN_CHARS:
            raise ValueError(
                "MODELS_STORE=database and MODEL_SERVER_URL need MODEL_SERVER_TOKEN "
                f"(at least {MIN_TOKEN_CHARS} characters)"
            )
        if self.model_server_url is not None and not self.model_server_url.startswith(("http://", "https://")):
            raise ValueError("MODEL_SERVER_URL must be an http(s) URL, e.g. http://balancer:8000")
        return self

    def model_server_base(self) -> str | None:
        """The desk's model server as Rasa reaches it, without a trailing slash (None: Rasa
        gets file paths, as in the embedded default)."""
        return self.model_server_url.rstrip("/") if self.model_server_url else None

    def widget_origin_list(self) -> list[str]:
        return [origin.strip().rstrip("/") for origin in self.widget_origins.split(",") if origin.strip()]

    def multi_process_problems(self) -> list[str]:
        """What stops several desk processes from sharing the work safely (empty: nothing)."""
        if self.desk_processes == 1:
            return []
        problems = []
        if not self.database_url.startswith("postgresql"):
            problems.append("DATABASE_URL must be PostgreSQL (SQLite is for one process)")
        if self.secret_key is None:
            problems.append("SECRET_KEY must be set (a generated key file differs per process)")
        if self.attachments_store != "database":
            problems.append("ATTACHMENTS_STORE must be 'database' (every process must serve every file)")
        if self.telegram_token is not None and not self.telegram_webhook_url:
            problems.append(
                "Telegram needs TELEGRAM_WEBHOOK_URL: with polling from several processes Telegram answers 409"
            )
        return problems


@lru_cache(maxsize=1)
def settings() -> DeskSettings:
    """Loaded on first use, not at import."""
    return DeskSettings()
