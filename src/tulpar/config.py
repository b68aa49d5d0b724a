"""Runtime settings, read once from the environment (prefix ``TULPAR_``; ``DATABASE_URL`` as is)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import platformdirs
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("tulpar", appauthor=False))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TULPAR_", extra="ignore")

    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "TULPAR_DATABASE_URL")
    )
    data_dir: Path = Field(default_factory=_default_data_dir)
    embedded_database_name: str = "tulpar"
    # Web concurrency and the database pool, per web process. Sync handlers and each
    # request's database work run in `web_threads` threads (AnyIO's default: 40); a request
    # holds at most one connection, so the pool defaults to one connection per thread and no
    # thread waits for one. At most `db_requests_in_flight` requests (default: the pool size;
    # 0: no limit) use the database at once; another waits up to `db_request_wait_seconds` for
    # a turn, then gets 503 with Retry-After instead of a pool timeout.
    web_threads: int = Field(default=40, ge=1)
    db_pool_size: int | None = Field(default=None, ge=1)  # default: web_threads
    db_max_overflow: int = Field(default=0, ge=0)
    db_pool_timeout_seconds: float = Field(default=2.0, gt=0)
    db_pool_recycle_seconds: int = Field(default=1800, ge=1)  # no pre-ping: age them out
    db_requests_in_flight: int | None = Field(default=None, ge=0)
    db_request_wait_seconds: float = Field(default=1.0, ge=0)
    retry_after_seconds: int = Field(default=1, ge=1)  # told to clients shed or refused
    grace_period_days: int = Field(default=30, ge=0)
    local_timezone: str = "Asia/Almaty"
    environment: str = "development"
    # Carrier / eSIM platform (provisioning). TULPAR_CARRIER_URL: the carrier's API base URL.
    carrier_url: str | None = None
    carrier_timeout_seconds: float = Field(default=5.0, gt=0)
    carrier_callback_secret: str | None = None  # verifies the carrier's signed callbacks
    provisioning_retry_window_seconds: float = Field(default=3600.0, gt=0)
    provisioning_backoff_base_seconds: float = Field(default=2.0, gt=0)
    provisioning_backoff_max_seconds: float = Field(default=300.0, gt=0)
    provisioning_poll_after_seconds: float = Field(default=30.0, gt=0)

    # OTP / receipts / SMS (otp, receipt, notification packages).
    otp_secret: str = "change-me-otp-secret"  # HMAC key for codes; refused outside dev/test
    otp_hourly_cap_per_card: int = Field(default=5, ge=1)
    otp_hourly_cap_per_address: int = Field(default=20, ge=1)
    # Every answer to a code request takes at least this long (kit.answer_floor): well above
    # the request's own work, so its time cannot tell whether the card exists.
    otp_answer_floor_seconds: float = Field(default=0.1, ge=0)
    sms_provider: str = "outbox"  # outbox | smpp | http (Twilio REST convention)
    sms_sender_id: str = "Tulpar"  # alphanumeric sender (SMPP source_addr); `http` uses from
    sms_send_timeout_seconds: float = Field(default=10.0, gt=0)
    # SMPP 3.4 (sms_provider=smpp): one transceiver bind per worker process.
    sms_smpp_host: str = "127.0.0.1"
    sms_smpp_port: int = Field(default=2775, ge=1, le=65535)
    sms_smpp_system_id: str = ""
    sms_smpp_password: str = ""
    sms_smpp_system_type: str = ""
    sms_smpp_window: int = Field(default=10, ge=1)  # submit_sm awaiting their response
    sms_smpp_rate_per_second: float = Field(default=20.0, gt=0)  # the SMSC's contracted rate
    sms_smpp_throttle_retries: int = Field(default=4, ge=0)  # per part, inside one send
    sms_smpp_throttle_backoff_seconds: float = Field(default=0.5, gt=0)
    # HTTP provider in the Twilio REST convention (sms_provider=http).
    sms_http_base_url: str = "https://api.twilio.com"
    sms_http_account_sid: str | None = None
    sms_http_auth_token: str | None = None  # also the key of X-Twilio-Signature on callbacks
    sms_http_from: str | None = None  # sender number or messaging service sender
    receipt_signing_key: str | None = None  # base64 Ed25519 seed; else generated in data_dir
    receipt_retired_public_keys: str = ""  # comma-separated base64 keys of earlier receipts
    public_base_url: str = "http://127.0.0.1:8000"  # for links printed on receipts (QR)
    # The seller printed on every receipt (Kazakhstan: legal name, 12-digit BIN, address).
    seller_legal_name: str = "ТОО «Tulpar Mobile»"
    seller_bin: str = "240140012345"
    seller_address: str = "050000, Алматы, проспект Абая, 10"
    # Traveller pages' cookies: Secure when true; unset: Secure when the request came over
    # https (behind a TLS proxy, set it to true).
    session_cookie_secure: bool | None = None

    # Orders and payments (order, payment packages; integrations/payments).
    order_payment_window_minutes: int = Field(default=30, ge=1)  # then `expired`
    idempotency_key_retention_hours: int = Field(default=24, ge=24)
    payment_requery_after_seconds: int = Field(default=120, ge=10)
    sandbox_webhook_secret: str = "change-me-sandbox-webhook-secret"  # refused in production
    # HMAC key of the payment links USSD sends by SMS; refused outside development and test.
    payment_link_secret: str = "change-me-payment-link-secret"
    sandbox_webhook_url: str | None = None  # default: public_base_url + /webhooks/sandbox
    sandbox_webhook_delay_seconds: int = Field(default=0, ge=0)
    sandbox_webhook_duplicates: int = Field(default=0, ge=0, le=10)
    sandbox_webhook_reorder: bool = False
    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_timeout_seconds: float = Field(default=10.0, gt=0)

    # Input limits (hygiene). Usage records older than `usage_max_age_days` or more than
    # `usage_future_tolerance_seconds` ahead (carrier clocks drift) are refused one by one.
    # Request bodies are capped before they are read: `max_body_bytes` for every route,
    # `max_usage_body_bytes` for usage batches (10,000 records). Forwarded headers
    # (X-Forwarded-For, -Proto) are trusted only from `trusted_proxies`: comma-separated
    # addresses or networks, "*" for any; by default from none.
    usage_max_age_days: int = Field(default=90, ge=1)
    usage_future_tolerance_seconds: int = Field(default=600, ge=0)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    max_usage_body_bytes: int = Field(default=8 * 1024 * 1024, ge=1024)
    trusted_proxies: str = ""

    # Tenancy and rate limits, answered 429 with Retry-After. Counted in each web process's
    # memory (no write on the balance read): with N web processes a limit is N times the
    # setting. Each caller reads each card at most `rate_limit_card_per_minute` times a
    # minute; an address gets `rate_limit_bad_credentials_per_minute` refused keys or tokens
    # a minute, then 429 before its credentials are looked at; an address calls without
    # credentials `rate_limit_anonymous_per_minute` times a minute. 0 turns a limit off. A
    # partner's own limit on all its keys is set per partner (`tulpar partners limit`).
    rate_limit_card_per_minute: int = Field(default=30, ge=0)
    rate_limit_bad_credentials_per_minute: int = Field(default=20, ge=0)
    rate_limit_anonymous_per_minute: int = Field(default=300, ge=0)

    # Readiness and worker supervision. A worker that loses its database (a restart, a
    # failover) reconnects after `worker_reconnect_initial_seconds`, doubling up to
    # `worker_reconnect_max_seconds`, and carries on. Workers beat every
    # `worker_heartbeat_seconds`; one silent for `worker_stalled_seconds` is taken for dead
    # and its running jobs go back to the queue when a worker starts. /readyz wants a
    # heartbeat no older than `ready_worker_heartbeat_seconds` and no due job waiting longer
    # than `ready_queue_lag_seconds`.
    worker_reconnect_initial_seconds: float = Field(default=0.5, gt=0)
    worker_reconnect_max_seconds: float = Field(default=30.0, gt=0)
    worker_heartbeat_seconds: float = Field(default=10.0, gt=0)
    worker_stalled_seconds: float = Field(default=30.0, gt=0)
    ready_worker_heartbeat_seconds: float = Field(default=30.0, gt=0)
    ready_queue_lag_seconds: float = Field(default=60.0, gt=0)
    # A database that does not answer a connection attempt (down, partitioned) fails it after
    # this long (libpq connect_timeout), answered 503, instead of hanging the request.
    db_connect_timeout_seconds: int = Field(default=5, ge=2)

    # Support console: how long a ticket of each kind may wait before it is overdue (its
    # SLA clock starts when it is opened; overdue tickets head the queue).
    support_sla_provisioning_failed_minutes: int = Field(default=60, ge=1)
    support_sla_paid_not_applied_minutes: int = Field(default=60, ge=1)
    support_sla_refund_failed_minutes: int = Field(default=240, ge=1)
    support_sla_question_minutes: int = Field(default=24 * 60, ge=1)

    # Staff sign-in (staff package). After `staff_max_failed_attempts` wrong passwords or
    # codes in a row an account is locked for `staff_lockout_minutes`. A staff session ends
    # after `staff_session_idle_minutes` without a request, and at the latest
    # `staff_session_absolute_hours` after sign-in. `staff_totp_issuer`: the name an
    # authenticator app shows next to the code.
    staff_max_failed_attempts: int = Field(default=5, ge=1)
    staff_lockout_minutes: int = Field(default=15, ge=1)
    staff_session_idle_minutes: int = Field(default=30, ge=1)
    staff_session_absolute_hours: int = Field(default=12, ge=1)
    staff_totp_issuer: str = "Tulpar"

    # Counter and fiscal (counter package, integrations/fiscal). Store receipts are reported
    # to the fiscal data operator through `fiscal_provider` ("simulator": the built-in one;
    # `fiscal_simulator_down` makes it refuse every registration, for tests and demos). A
    # registration that fails is retried by the `counter.fiscal_register` job with backoff.
    # Unset, it is the simulator outside production and none in production (sales complete,
    # their registrations stay pending until a real provider is configured); see
    # `fiscal_provider_name`.
    fiscal_provider: str | None = None
    fiscal_simulator_down: bool = False
    fiscal_register_attempts: int = Field(default=12, ge=1)

    # Observability. Logs: "json" or "console" (default: json in production, console
    # elsewhere). /metrics wants `Authorization: Bearer <metrics_token>`; with no token it
    # answers only loopback callers, and in production not at all.
    log_format: str | None = None
    log_level: str = "INFO"
    metrics_token: str | None = None
    # A standalone `tulpar worker` serves its own metrics on this loopback port (off if unset).
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)

    # Environment safety. In production no simulator can be turned on: the sandbox payment
    # provider (its pay page and /webhooks/sandbox), the /dev/* pages (SMS outbox, USSD
    # simulator), the outbox SMS provider, the carrier simulator. Unset, `sandbox_payments`
    # and `dev_pages` are on outside production and off in it, so the default payment
    # provider is the sandbox outside production and Stripe (once configured) in it.
    # `check_environment` runs when the web app or a worker starts and refuses, in one line
    # naming the setting, a production configuration that enables a simulator or keeps a
    # placeholder secret.
    sandbox_payments: bool | None = None
    dev_pages: bool | None = None

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def sandbox_enabled(self) -> bool:
        """Whether the sandbox payment provider may take payments here."""
        return not self.is_production and self.sandbox_payments is not False

    @property
    def dev_pages_enabled(self) -> bool:
        """Whether the /dev/* pages (outbox, USSD simulator) are served."""
        return not self.is_production and self.dev_pages is not False and self.is_demo

    @property
    def fiscal_provider_name(self) -> str | None:
        """The fiscal register in use: the one set, else the simulator outside production;
        None in production until a real one is configured."""
        if self.fiscal_provider is not None:
            return self.fiscal_provider
        return None if self.is_production else "simulator"

    @property
    def pool_size(self) -> int:
        return self.db_pool_size or self.web_threads

    @property
    def requests_in_flight(self) -> int | None:
        """How many requests may use the database at once (None: no limit)."""
        if self.db_requests_in_flight is None:
            return self.pool_size
        return self.db_requests_in_flight or None

    @property
    def is_demo(self) -> bool:
        return self.environment in {"development", "demo"}


@lru_cache
def get_settings() -> Settings:
    return Settings()


# Environment safety (see the Settings block of the same name).
_PLACEHOLDER_PREFIX = "change-me"
_MIN_SECRET_LENGTH = 32


class UnsafeSettingsError(ValueError):
    """A production configuration that enables a simulator or keeps a placeholder secret."""


def check_environment(settings: Settings | None = None) -> None:
    """Refuse (one line, naming the setting) a production configuration that would let a
    simulator take the place of a real service. Outside production: nothing to check."""
    settings = settings or get_settings()
    if not settings.is_production:
        return
    problem = _production_problem(settings)
    if problem is not None:
        raise UnsafeSettingsError(
            f"refusing to start with TULPAR_ENVIRONMENT=production: {problem}"
        )


def _production_problem(settings: Settings) -> str | None:
    explicit = settings.model_fields_set
    if settings.sandbox_payments:
        return "TULPAR_SANDBOX_PAYMENTS enables the sandbox payment provider (no money moves)"
    if "sandbox_webhook_secret" in explicit:
        return "TULPAR_SANDBOX_WEBHOOK_SECRET is set, but the sandbox provider is off in production"
    if settings.dev_pages:
        return "TULPAR_DEV_PAGES enables the /dev/* simulator pages"
    if "sms_provider" in explicit and settings.sms_provider == "outbox":
        return "TULPAR_SMS_PROVIDER=outbox sends no SMS; set smpp or http"
    if settings.fiscal_provider_name == "simulator":
        return "TULPAR_FISCAL_PROVIDER=simulator registers no receipt with the fiscal operator"
    for name in ("otp_secret", "payment_link_secret"):
        value: str = getattr(settings, name)
        if value.startswith(_PLACEHOLDER_PREFIX) or len(value) < _MIN_SECRET_LENGTH:
            return f"TULPAR_{name.upper()} must be a random value of at least 32 characters"
    return None
