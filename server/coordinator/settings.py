"""The one settings object, read from the environment (names as the coordinator document lists)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping


class ConfigurationError(ValueError):
    """A setting the server cannot start with; `python -m coordinator` prints it and exits 1."""


@dataclass(frozen=True)
class Settings:
    # DATABASE_URL as users write it (sqlite:///coordinator.db, postgresql://...).
    database_url: str = "sqlite:///coordinator.db"
    # REST (Envoy) listener. The coordinator document shows 0.0.0.0; we default to loopback and
    # let an operator widen it on purpose.
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # Native gRPC listener of the server process (port 0 picks a free port).
    grpc_host: str = "127.0.0.1"
    grpc_port: int = 50051
    # The server process's plain-HTTP port: Prometheus /metrics and the WebSockets /ws/metrics and
    # /ws/events; Envoy routes those paths here.
    metrics_port: int = 9464
    secret_key: str = ""
    # Bootstrap admin API keys (API_KEYS=key1,key2).
    api_keys: tuple[str, ...] = ()
    # The exchange: an account extended public key (BIP84 zpub/vpub, or xpub/tpub) gives each
    # payment its own address, confirmed by watching a Bitcoin Core node (BITCOIN_RPC_URL);
    # with only BITCOIN_ADDRESS, payments share it and an admin confirms them.
    bitcoin_address: str = ""
    bitcoin_xpub: str = ""
    bitcoin_rpc_url: str = ""
    bitcoin_confirmations: int = 1
    bitcoin_poll_s: float = 30.0
    payment_ttl_s: float = 3600.0
    btc_to_aitbc_rate: int = 100_000
    # Worker statistics polling.
    stats_poll_interval_s: float = 30.0
    stats_poll_timeout_s: float = 5.0
    stats_poll_concurrency: int = 32
    stats_path: str = "/jsonstats"
    sample_retention_days: int = 35
    # How long SIGTERM waits for in-flight calls before cancelling them.
    shutdown_grace_s: float = 10.0
    # The marketplace. Supported job types and their price per unit of work, in nanoTON
    # (JOB_PRICES=llm_inference=20,embedding=2,echo=1).
    job_prices: tuple[tuple[str, int], ...] = (("llm_inference", 20), ("embedding", 2), ("echo", 1))
    pool_fee_bps: int = 0            # the pool's share of each charge, in basis points
    lease_s: float = 30.0            # a claim's lease; heartbeats extend it
    heartbeat_timeout_s: float = 30.0  # a miner silent this long is offline; its leases are released
    job_ttl_s: float = 3600.0        # default time to live of a job
    max_attempts: int = 3            # leases a job gets before it is failed
    retry_backoff_s: float = 1.0     # first retry delay; doubles per attempt
    heartbeat_flush_s: float = 0.5   # heartbeats are coalesced and written in one batch this often
    sample_every_s: float = 60.0     # at most one stored heartbeat sample per worker this often
    reaper_interval_s: float = 1.0   # how often leases, ttls and silent miners are checked
    # Payout runs: every PAYOUT_INTERVAL_SECONDS (0: only when an admin asks) each participant
    # owed at least the pool minimum (or its own higher threshold) gets one pending payout. The
    # pool's wallet sends them (from_address); with TON_API_URL (toncenter v2 style) a watcher
    # confirms them from that wallet's transfers every TON_WATCH_SECONDS.
    payout_interval_s: float = 0.0
    payout_minimum_nanoton: int = 1_000_000_000
    pool_wallet_address: str = ""
    ton_api_url: str = ""
    ton_api_key: str = ""
    ton_watch_s: float = 30.0
    ton_watch_limit: int = 100
    # Ed25519 seed (base64, 32 bytes) that signs receipts; derived from SECRET_KEY when unset.
    coordinator_signing_key: str = ""
    # With neither key set the server refuses to start, unless this allows a key that lives only
    # as long as the process (receipts issued before a restart then stop verifying).
    allow_ephemeral_signing_key: bool = False
    # Wallet login (TON Connect ton_proof): the domains a proof may name (the app's host as the
    # wallet sees it), how long an issued payload lives, how old a proof may be, session lifetime.
    ton_proof_domains: tuple[str, ...] = ("localhost",)
    login_challenge_ttl_s: float = 300.0
    ton_proof_max_age_s: float = 900.0
    session_ttl_s: float = 86400.0
    # Requests per minute per client address and route family, enforced by Envoy
    # (RATE_LIMITS=pool_read=100,pool_write=20,client=100,miner=1000,user=60).
    rate_limits: tuple[tuple[str, int], ...] = (("pool_read", 100), ("pool_write", 20), ("client", 100),
                                                ("miner", 1000), ("user", 60))
    # Envoy terminates TLS with this certificate and key (PEM files) when both are set.
    tls_cert_file: str = ""
    tls_key_file: str = ""
    # Messages per minute on one heartbeat stream, enforced by the server.
    stream_messages_per_minute: int = 1000
    # Alerts: rules are judged on events and on a sweep every ALERT_INTERVAL_SECONDS; a failed
    # notification is retried after NOTIFY_RETRY_SECONDS, doubling; a channel is disabled after
    # NOTIFY_DISABLE_AFTER_FAILURES failed notifications in a row. Telegram through the Bot API
    # (TELEGRAM_API_URL, a stand-in in tests); e-mail through SMTP_HOST. Webhooks may point at
    # private or loopback addresses only with WEBHOOK_PRIVATE_ADDRESSES=1.
    alert_interval_s: float = 30.0
    notify_retry_s: float = 10.0
    notify_disable_after: int = 5
    telegram_api_url: str = "https://api.telegram.org"
    telegram_bot_token: str = ""
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = ""
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    webhook_private_addresses: bool = False
    # WebSocket subscribers one server process takes (/ws/metrics and /ws/events together).
    live_max_subscribers: int = 1000
    # The participant dashboard's built files (web/dist: `npm --prefix web run build`), served on
    # the HTTP port under /app/; empty: /app/ says the dashboard is not built here.
    dashboard_dir: str = ""
    # DEBUG adds a log line per rpc.
    log_level: str = "INFO"
    # Where the server writes the ports it bound, as JSON, once it serves (with port 0, the
    # only way a supervisor learns them).
    port_file: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        defaults = cls()

        def text(name: str, default: str) -> str:
            return env.get(name, default).strip() or default

        def names(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
            """A comma-separated list (API_KEYS=key1,key2)."""
            return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip()) or default

        def flag(name: str) -> bool:
            raw = env.get(name, "").strip().lower()
            if raw not in ("", "0", "false", "1", "true"):
                raise ConfigurationError(f"environment variable {name}={raw!r} is not 1/true or 0/false")
            return raw in ("1", "true")

        def number(name: str, default, kind=int):
            raw = env.get(name, "").strip()
            if not raw:
                return default
            try:
                return kind(raw)
            except ValueError:
                raise ConfigurationError(f"environment variable {name}={raw!r} is not a valid {kind.__name__}") from None

        return cls(
            database_url=text("DATABASE_URL", defaults.database_url),
            api_host=text("API_HOST", defaults.api_host),
            api_port=number("API_PORT", defaults.api_port),
            grpc_host=text("GRPC_HOST", defaults.grpc_host),
            grpc_port=number("GRPC_PORT", defaults.grpc_port),
            metrics_port=number("METRICS_PORT", defaults.metrics_port),
            secret_key=text("SECRET_KEY", ""),
            api_keys=names("API_KEYS", ()),
            bitcoin_address=text("BITCOIN_ADDRESS", ""),
            bitcoin_xpub=text("BITCOIN_XPUB", ""),
            bitcoin_rpc_url=text("BITCOIN_RPC_URL", ""),
            bitcoin_confirmations=number("BITCOIN_CONFIRMATIONS", defaults.bitcoin_confirmations),
            bitcoin_poll_s=number("BITCOIN_POLL_SECONDS", defaults.bitcoin_poll_s, float),
            payment_ttl_s=number("PAYMENT_TTL_SECONDS", defaults.payment_ttl_s, float),
            btc_to_aitbc_rate=number("BTC_TO_AITBC_RATE", defaults.btc_to_aitbc_rate),
            stats_poll_interval_s=number("STATS_POLL_INTERVAL_S", defaults.stats_poll_interval_s, float),
            stats_poll_timeout_s=number("STATS_POLL_TIMEOUT_S", defaults.stats_poll_timeout_s, float),
            stats_poll_concurrency=number("STATS_POLL_CONCURRENCY", defaults.stats_poll_concurrency),
            stats_path=text("STATS_PATH", defaults.stats_path),
            sample_retention_days=number("SAMPLE_RETENTION_DAYS", defaults.sample_retention_days),
            shutdown_grace_s=number("SHUTDOWN_GRACE_S", defaults.shutdown_grace_s, float),
            job_prices=parse_prices(env.get("JOB_PRICES", "")) or defaults.job_prices,
            pool_fee_bps=number("POOL_FEE_BPS", defaults.pool_fee_bps),
            lease_s=number("LEASE_SECONDS", defaults.lease_s, float),
            heartbeat_timeout_s=number("HEARTBEAT_TIMEOUT", defaults.heartbeat_timeout_s, float),
            job_ttl_s=number("JOB_TTL_SECONDS", defaults.job_ttl_s, float),
            max_attempts=number("JOB_MAX_ATTEMPTS", defaults.max_attempts),
            retry_backoff_s=number("JOB_RETRY_BACKOFF_SECONDS", defaults.retry_backoff_s, float),
            heartbeat_flush_s=number("HEARTBEAT_FLUSH_SECONDS", defaults.heartbeat_flush_s, float),
            sample_every_s=number("SAMPLE_EVERY_SECONDS", defaults.sample_every_s, float),
            reaper_interval_s=number("REAPER_INTERVAL_SECONDS", defaults.reaper_interval_s, float),
            payout_interval_s=number("PAYOUT_INTERVAL_SECONDS", defaults.payout_interval_s, float),
            payout_minimum_nanoton=number("PAYOUT_MINIMUM_NANOTON", defaults.payout_minimum_nanoton),
            pool_wallet_address=text("POOL_WALLET_ADDRESS", ""),
            ton_api_url=text("TON_API_URL", ""),
            ton_api_key=text("TON_API_KEY", ""),
            ton_watch_s=number("TON_WATCH_SECONDS", defaults.ton_watch_s, float),
            ton_watch_limit=number("TON_WATCH_LIMIT", defaults.ton_watch_limit),
            coordinator_signing_key=text("COORDINATOR_SIGNING_KEY", ""),
            allow_ephemeral_signing_key=flag("ALLOW_EPHEMERAL_SIGNING_KEY"),
            ton_proof_domains=names("TON_PROOF_DOMAINS", defaults.ton_proof_domains),
            login_challenge_ttl_s=number("LOGIN_CHALLENGE_TTL_SECONDS", defaults.login_challenge_ttl_s, float),
            ton_proof_max_age_s=number("TON_PROOF_MAX_AGE_SECONDS", defaults.ton_proof_max_age_s, float),
            session_ttl_s=number("SESSION_TTL_SECONDS", defaults.session_ttl_s, float),
            rate_limits=parse_rate_limits(env.get("RATE_LIMITS", ""), defaults.rate_limits),
            tls_cert_file=text("TLS_CERT_FILE", ""),
            tls_key_file=text("TLS_KEY_FILE", ""),
            stream_messages_per_minute=number("STREAM_MESSAGES_PER_MINUTE", defaults.stream_messages_per_minute),
            alert_interval_s=number("ALERT_INTERVAL_SECONDS", defaults.alert_interval_s, float),
            notify_retry_s=number("NOTIFY_RETRY_SECONDS", defaults.notify_retry_s, float),
            notify_disable_after=number("NOTIFY_DISABLE_AFTER_FAILURES", defaults.notify_disable_after),
            telegram_api_url=text("TELEGRAM_API_URL", defaults.telegram_api_url),
            telegram_bot_token=text("TELEGRAM_BOT_TOKEN", ""),
            smtp_host=text("SMTP_HOST", ""),
            smtp_port=number("SMTP_PORT", defaults.smtp_port),
            smtp_from=text("SMTP_FROM", ""),
            smtp_username=text("SMTP_USERNAME", ""),
            smtp_password=text("SMTP_PASSWORD", ""),
            smtp_starttls=flag("SMTP_STARTTLS"),
            webhook_private_addresses=flag("WEBHOOK_PRIVATE_ADDRESSES"),
            live_max_subscribers=number("LIVE_MAX_SUBSCRIBERS", defaults.live_max_subscribers),
            dashboard_dir=text("DASHBOARD_DIR", ""),
            log_level=text("LOG_LEVEL", defaults.log_level).upper(),
            port_file=text("PORT_FILE", ""),
        )


def parse_prices(raw: str) -> tuple[tuple[str, int], ...]:
    """JOB_PRICES=llm_inference=20,echo=1 -> (("llm_inference", 20), ("echo", 1))."""
    prices = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        name, _, price = item.partition("=")
        if not name.strip() or not price.strip().isdigit():
            raise ConfigurationError(f"JOB_PRICES entry {item!r} is not job_type=<nanoTON per unit>")
        prices.append((name.strip(), int(price)))
    return tuple(prices)


def parse_rate_limits(raw: str, defaults: tuple[tuple[str, int], ...]) -> tuple[tuple[str, int], ...]:
    """RATE_LIMITS=miner=2000,user=30 overrides those families; the others keep their default."""
    limits = dict(defaults)
    for item in filter(None, (part.strip() for part in raw.split(","))):
        family, _, per_minute = item.partition("=")
        if family.strip() not in limits or not per_minute.strip().isdigit() or int(per_minute) < 1:
            raise ConfigurationError(f"RATE_LIMITS entry {item!r} is not <family>=<requests per minute> "
                             f"with family one of {', '.join(limits)}")
        limits[family.strip()] = int(per_minute)
    return tuple(limits.items())
