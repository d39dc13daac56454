"""Typed settings, one class per component, read once from ``STACKWATCH_*`` environment variables.

Each component's ``main`` builds its settings object and hands the values down as arguments; no
other module reads the environment. ``stackwatch up`` builds the same objects in code, with ports
of its own choosing, so the one-process stack and the per-pod deployment share one description.

Variables (prefix, then the field name in upper case), for example::

    STACKWATCH_GATEWAY_PORT=8080
    STACKWATCH_GATEWAY_AUTH_ADDRESS=auth:50051
    STACKWATCH_INGEST_STORE_URL=clickhouse://clickhouse:9000
    STACKWATCH_AUTH_CREDENTIALS_FILE=/etc/stackwatch/credentials.json
    STACKWATCH_LOG_LEVEL=INFO
    STACKWATCH_TRACING=otlp
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from stackwatch import errors


class CommonSettings(BaseSettings):
    """Settings every component shares (prefix ``STACKWATCH_``)."""

    model_config = SettingsConfigDict(env_prefix="STACKWATCH_", frozen=True, extra="ignore")

    log_level: str = "INFO"
    """Python logging level name."""
    log_format: Literal["json", "text"] = "json"
    """``json`` writes one JSON object per line (for log collectors); ``text`` is for humans."""
    tracing: Literal["none", "otlp", "console"] = "none"
    """Where OpenTelemetry spans go: nowhere (default), an OTLP collector configured by the
    standard ``OTEL_EXPORTER_OTLP_*`` variables, or stderr."""
    internal_key_file: str | None = None
    """File holding the cluster's internal key (any bytes, at least 16): the auth service signs
    principal tokens with it and every service verifies them. The same file on every component."""
    internal_key: str | None = Field(default=None, repr=False)
    """The internal key itself, when no file is given (prefer the file: environments leak)."""

    def internal_key_bytes(self) -> bytes:
        """The internal key.

        Raises:
            StackWatchError: neither setting is given, or the file cannot be read.
        """
        if self.internal_key_file:
            try:
                key = Path(self.internal_key_file).read_bytes().strip()
            except OSError as e:
                raise errors.StackWatchError(
                    f"cannot read STACKWATCH_INTERNAL_KEY_FILE {self.internal_key_file}: {e.strerror}") from None
        elif self.internal_key:
            key = self.internal_key.encode("utf-8")
        else:
            raise errors.StackWatchError(
                "no internal key: set STACKWATCH_INTERNAL_KEY_FILE (the same file on every component)")
        if len(key) < 16:
            raise errors.StackWatchError("the internal key must be at least 16 bytes (openssl rand -hex 32)")
        return key


class GatewaySettings(BaseSettings):
    """The HTTP gateway (prefix ``STACKWATCH_GATEWAY_``)."""

    model_config = SettingsConfigDict(env_prefix="STACKWATCH_GATEWAY_", frozen=True, extra="ignore")

    host: str = "0.0.0.0"
    """Address to listen on."""
    port: int = 8080
    """HTTP port for the CloudWatch API."""
    auth_address: str = "127.0.0.1:50051"
    """``host:port`` of the auth service."""
    ingest_address: str = "127.0.0.1:50052"
    """``host:port`` of the ingest service."""
    alarm_address: str = "127.0.0.1:50053"
    """``host:port`` of the alarm service."""
    autoscale_address: str = "127.0.0.1:50054"
    """``host:port`` of the autoscale service."""
    rpc_timeout: float = Field(default=10.0, gt=0)
    """Deadline in seconds for each call to a service."""
    put_timeout: float = Field(default=50.0, gt=0)
    """Deadline in seconds of each PutMetricData call to ingest. Longer than ingest may need to
    learn how its INSERT ended (on a cluster: the store's ``insert_quorum_timeout`` plus
    ``unknown_wait``, 40 s by default, while a replica that died mid-insert comes back): answered
    with an error while its rows are still being written, a client would retry and store them
    twice. Below the SDKs' read timeout (60 s for boto3 and the AWS CLI), which would cause the same."""
    max_body_bytes: int = Field(default=1_048_576 * 2, gt=0)
    """Largest request body accepted as sent (possibly gzipped)."""
    max_decoded_bytes: int = Field(default=1_048_576 + 65_536, gt=0)
    """Largest body after gunzip. CloudWatch's PutMetricData limit is 1 MB."""
    max_concurrent_requests: int = Field(default=512, gt=0)
    """Requests in flight beyond this answer ``ServiceUnavailable`` (SDKs retry it)."""
    max_active_requests: int = Field(default=8, gt=0)
    """Requests worked on at once (parsed, authenticated, waiting for a service) once their body
    is in; the rest queue for a turn. A gateway process computes on one core, so more would only
    share it more thinly: a few keep the services busy while this process parses (measured under
    2x overload: 4 turns answered accepted requests in 0.6 s at p50 where 16 took 2.1 s), and
    reads, which mostly wait on ClickHouse, want some more."""
    queue_timeout: float = Field(default=0.25, gt=0)
    """Seconds a request may queue for a turn before it is answered ``Throttling`` (SDKs back
    off and retry it). Under more load than the machine can take, the excess is refused at once
    instead of every request slowing down and memory growing with the queue."""
    max_connections: int = Field(default=4096, gt=0)
    """Open client connections beyond this are closed as soon as they are accepted, before a
    byte is read (clients see a reset and retry). Lowered at start to three quarters of the
    process's file descriptor limit (``ulimit -n``) when that is smaller, so that connections
    alone can never exhaust descriptors."""
    header_timeout: float = Field(default=10.0, gt=0)
    """Seconds a connection has to deliver a complete request head (request line and headers),
    counted from when it opens or, on a kept-alive connection, from the first byte of the next
    request. Past it the connection is closed (there is no request yet to answer)."""
    stall_timeout: float = Field(default=10.0, gt=0)
    """Seconds a request body may go without a single byte arriving (answered ``RequestTimeout``,
    HTTP 408, and the connection closed), and seconds a response may sit unsent because the
    client reads nothing (the connection is closed)."""
    body_timeout: float = Field(default=60.0, gt=0)
    """Seconds the whole request body may take to arrive, however steadily it trickles in
    (answered ``RequestTimeout``, HTTP 408). 2 MiB in 60 s is 35 KB/s."""
    keepalive_timeout: float = Field(default=75.0, gt=0)
    """Seconds an idle kept-alive connection stays open between requests (aiohttp's own default
    is an hour, which lets idle clients hold descriptors for that long)."""
    bad_request_log_limit: int = Field(default=20, gt=0)
    """Log lines per 10 s, for each kind of client-caused event (malformed HTTP, connections
    refused or timed out, unreadable bodies); the rest are counted and the count is logged with
    the next line. These are one line each, never a traceback."""
    reuse_port: bool = False
    """Listen with SO_REUSEPORT, so several gateway processes on one host share the port (the
    kernel spreads connections over them): one Python process parses on one core at most."""


class AuthSettings(BaseSettings):
    """The auth service (prefix ``STACKWATCH_AUTH_``)."""

    model_config = SettingsConfigDict(env_prefix="STACKWATCH_AUTH_", frozen=True, extra="ignore")

    bind: str = "0.0.0.0:50051"
    """gRPC listen address."""
    credentials_file: str | None = None
    """Path of a static credentials JSON file (asked before CloudStack when both are set)."""
    cloudstack_url: str | None = None
    """CloudStack's API endpoint, e.g. ``http://mgmt:8080/client/api``: tenants sign with the API
    keys CloudStack gave them, looked up with ``getUser``/``getUserKeys``/``listAccounts``."""
    cloudstack_api_key: str | None = None
    """API key of the StackWatch service account in CloudStack (an Admin role, or one allowed
    getUser, getUserKeys and listAccounts)."""
    cloudstack_secret_key_file: str | None = None
    """File holding that account's secret key."""
    cloudstack_secret_key: str | None = Field(default=None, repr=False)
    """The secret key itself, when no file is given."""
    cloudstack_timeout: float = Field(default=5.0, gt=0)
    """Seconds one CloudStack request may take (three attempts at most for a lookup)."""
    cache_ttl: float = Field(default=300.0, gt=0)
    """Seconds a known key stays cached: key rotation and disabling take effect within this."""
    negative_ttl: float = Field(default=30.0, ge=0)
    """Seconds an unknown key stays cached as unknown."""
    stale_ttl: float = Field(default=3600.0, ge=0)
    """Seconds past ``cache_ttl`` a known key keeps working while CloudStack cannot be reached."""
    cache_entries: int = Field(default=100_000, gt=0)
    """Most access keys kept in the cache."""

    def cloudstack_secret(self) -> str:
        """The service account's secret key.

        Raises:
            StackWatchError: not configured, or the file cannot be read.
        """
        return _cloudstack_secret("STACKWATCH_AUTH_", self.cloudstack_secret_key_file, self.cloudstack_secret_key)


class IngestSettings(BaseSettings):
    """The ingest service (prefix ``STACKWATCH_INGEST_``)."""

    model_config = SettingsConfigDict(env_prefix="STACKWATCH_INGEST_", frozen=True, extra="ignore")

    bind: str = "0.0.0.0:50052"
    """gRPC listen address."""
    store_url: str = "clickhouse://127.0.0.1:9000"
    """``clickhouse://host:port`` (server, native protocol) or ``chdb:///data/dir`` (embedded)."""
    database: str = "stackwatch_metrics"
    """Database that holds the metric tables."""
    batch_max_rows: int = Field(default=100_000, gt=0)
    """Most datums written by one group-committed INSERT."""
    max_pending_rows: int = Field(default=1_000_000, gt=0)
    """Datums waiting for a commit beyond which PutMetricData answers ``Throttling``."""
    commit_interval: float = Field(default=0.2, ge=0)
    """Least seconds between the starts of two group commits: under load, bigger INSERTs instead
    of more of them (each costs ClickHouse about the same whatever its size)."""
    commit_rows: int = Field(default=10_000, gt=0)
    """Datums waiting that start a commit at once, without waiting for ``commit_interval``."""
    wal_dir: str | None = None
    """Directory of the write-ahead log (one per ingest process, on a disk that outlives it). Set,
    PutMetricData is acknowledged once its request is in the log (a fraction of a millisecond) and
    INSERTed behind; unset, once its group-committed INSERT is done (10-15 ms or more)."""
    apply_interval: float = Field(default=1.0, ge=0)
    """With a write-ahead log: least seconds between the starts of two INSERTs of logged records
    (a reader waiting for its own writes starts one at once). Nobody waits for these INSERTs, so
    they can be few and big: measured at full load on 2 cores, 1 s gave 68k datums/s where 0.2 s
    gave 39k (ClickHouse's cost is per INSERT and per part to merge, hardly per row)."""
    apply_rows: int = Field(default=100_000, gt=0)
    """With a write-ahead log: logged datums waiting that start an INSERT at once."""
    read_wait: float = Field(default=10.0, gt=0)
    """With a write-ahead log: most seconds a read waits for the caller's acknowledged writes to
    reach ClickHouse before answering ``ServiceUnavailable``."""
    alarm_address: str | None = None
    """``host:port`` of the alarm service, to which the datums of watched metrics are forwarded
    right after they are acknowledged (unset: nothing is forwarded; alarms then read ingest)."""
    catalog_refresh: float = Field(default=900.0, ge=0)
    """Seconds after which a metric's catalog row (its ListMetrics ``last_seen``) is rewritten."""
    store_threads: int = Field(default=4, gt=0)
    """Threads doing blocking store I/O."""
    retention: str = "1s=3h,1m=15d,5m=63d,1h=455d"
    """How long each tier is kept, ``TIER=DURATION`` pairs (tiers 1s, 1m, 5m, 1h; durations in s, m,
    h or d); a tier left out keeps CloudWatch's value, which the default spells out. Raw rows hold
    the 1s and 1m tiers, rollup tables the 5m and 1h ones; each expires by whole partitions."""
    auth_address: str = "127.0.0.1:50051"
    """``host:port`` of the auth service, asked about calls signed with API keys (gateway calls
    carry a principal token, which needs no call)."""


class ServiceSettings(BaseSettings):
    """A service that has no configuration of its own yet (alarm, autoscale)."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    bind: str = "0.0.0.0:50053"
    """gRPC listen address."""


class AlarmSettings(ServiceSettings):
    """The alarm service (prefix ``STACKWATCH_ALARM_``)."""

    model_config = SettingsConfigDict(env_prefix="STACKWATCH_ALARM_", frozen=True, extra="ignore")

    bind: str = "0.0.0.0:50053"
    """gRPC listen address."""
    store_url: str = "clickhouse://127.0.0.1:9000"
    """``clickhouse://host:port`` (server, native protocol) or ``chdb:///data/dir`` (embedded; a
    directory of its own, since chDB allows one process per directory)."""
    database: str = "stackwatch_alarms"
    """Database that holds the alarm tables (definitions, states, history)."""
    store_threads: int = Field(default=2, gt=0)
    """Threads doing blocking store I/O."""
    auth_address: str = "127.0.0.1:50051"
    """``host:port`` of the auth service, asked about calls signed with API keys."""
    ingest_address: str = "127.0.0.1:50052"
    """``host:port`` of the ingest service, asked for the datapoints each evaluation needs."""
    region: str = "us-east-1"
    """The region written in alarm ARNs (``arn:aws:cloudwatch:<region>:<account>:alarm:<name>``)."""
    dashboard_page_size: int = Field(default=1000, gt=0)
    """Dashboards per ListDashboards page (CloudWatch's 1000; smaller only to exercise paging)."""
    evaluation_interval: float = Field(default=5.0, gt=0)
    """Longest sleep of the scheduler between two looks at its timers. Alarms are evaluated when
    their period closes (plus ``evaluation_grace``), not at this interval; it only bounds how long
    a clock jump or a missed wake-up can delay an evaluation."""
    evaluation_grace: float = Field(default=0.5, ge=0)
    """Seconds after a period closes before it is evaluated, for datums still on their way from
    ingest (a datum later still causes a re-evaluation)."""
    ownership_interval: float = Field(default=10.0, gt=0)
    """Seconds between two checks of which alarms this process owns."""
    reload_interval: float = Field(default=0.0, ge=0)
    """Seconds between two re-reads of every alarm from the store (0: never; alarms written through
    this process are known at once)."""
    rpc_timeout: float = Field(default=10.0, gt=0)
    """Deadline in seconds of each call to ingest."""
    autoscale_address: str = "127.0.0.1:50054"
    """``host:port`` of the autoscale service, asked to execute the scaling policies alarms name."""
    public_url: str = "http://127.0.0.1:8080"
    """The gateway's URL as subscribers reach it: SubscribeURL, UnsubscribeURL and SigningCertURL
    of SNS messages point there (``stackwatch up`` passes its own)."""
    signing_key_file: str | None = None
    """PEM file holding the RSA key and self-signed certificate that sign SNS messages; made on
    first start. Unset: a key for one run only (its messages cannot be checked after a restart)."""
    delivery_first_wait: float = Field(default=1.0, gt=0)
    """Seconds before the first retry of a delivery that failed recoverably (then doubling, with jitter)."""
    delivery_max_wait: float = Field(default=60.0, gt=0)
    """Longest wait between two attempts of one delivery."""
    delivery_deadline: float = Field(default=300.0, gt=0)
    """Seconds after which a delivery that keeps failing recoverably is given up and recorded failed."""
    delivery_timeout: float = Field(default=15.0, gt=0)
    """Seconds for one HTTP delivery attempt."""
    delivery_denied_networks: str = "169.254.0.0/16,fe80::/10,0.0.0.0/8"
    """Comma-separated CIDRs no SNS delivery may connect to, checked after DNS (subscriber URLs are
    tenants' choice). By default link-local (cloud metadata services); a deployment adds its own
    networks (k8s/01-config.yaml denies the private ranges). Loopback stays allowed for local use."""
    replica_id: str = ""
    """This replica's id among the alarm service's replicas (in Kubernetes, the StatefulSet pod's
    name). Empty (the default, ``stackwatch up``): a single process that evaluates every alarm.
    Set: the replica heartbeats in the ``members`` table and evaluates only the alarms that hash
    to it (:mod:`services.alarm.ownership`)."""
    heartbeat_interval: float = Field(default=3.0, gt=0)
    """Seconds between a replica's heartbeats. A replica that stops heartbeating loses its alarms
    to the others 3 intervals after its last heartbeat; a new one takes its share 2 intervals
    after its first."""


class AutoscaleSettings(ServiceSettings):
    """The autoscale service (prefix ``STACKWATCH_AUTOSCALE_``)."""

    model_config = SettingsConfigDict(env_prefix="STACKWATCH_AUTOSCALE_", frozen=True, extra="ignore")

    bind: str = "0.0.0.0:50054"
    """gRPC listen address."""
    store_url: str = "clickhouse://127.0.0.1:9000"
    """``clickhouse://host:port`` (server) or ``chdb:///data/dir`` (embedded; a directory of its own)."""
    database: str = "stackwatch_autoscale"
    """Database that holds the autoscale tables (groups, policies, activities, instances)."""
    store_threads: int = Field(default=2, gt=0)
    """Threads doing blocking store I/O."""
    region: str = "us-east-1"
    """The region written in Auto Scaling ARNs."""
    cloudstack_url: str | None = None
    """CloudStack's API endpoint the groups' VMs run in (unset: only webhook groups run). ``stackwatch
    up`` sets it to the auth service's (``STACKWATCH_AUTH_CLOUDSTACK_URL``) when unset."""
    cloudstack_api_key: str | None = None
    """API key of the StackWatch service account (an Admin role: it deploys and destroys VMs in
    tenants' accounts by ``account``/``domainid``, and expunges them)."""
    cloudstack_secret_key_file: str | None = None
    """File holding that account's secret key."""
    cloudstack_secret_key: str | None = Field(default=None, repr=False)
    """The secret key itself, when no file is given."""
    cloudstack_timeout: float = Field(default=10.0, gt=0)
    """Seconds one CloudStack request may take."""
    cloudstack_job_poll: float = Field(default=1.0, gt=0)
    """Seconds between two ``queryAsyncJobResult`` polls of a deploy or destroy."""
    cloudstack_job_timeout: float = Field(default=600.0, gt=0)
    """Seconds a deploy or destroy job may stay pending before the step fails (and is retried)."""
    reconcile_interval: float = Field(default=10.0, gt=0)
    """Seconds between two passes of a group's reconciler when nothing wakes it (a change of
    desired capacity wakes it at once)."""
    settle_interval: float = Field(default=1.0, gt=0)
    """Seconds between passes while one of the group's VMs is starting (to add it to its LB rule soon)."""
    scan_interval: float = Field(default=30.0, gt=0)
    """Seconds between scans of the store for groups another replica created."""
    alarm_address: str | None = None
    """The alarm service (``host:port``): target tracking policies create their alarms there."""
    target_tracking_period: int = Field(default=60, ge=10)
    """Period in seconds of the alarms target tracking policies create (AWS: 60; 10, 20 or 30 for demos)."""
    rpc_timeout: float = Field(default=10.0, gt=0)
    """Deadline in seconds of each call to the alarm service."""

    def cloudstack_secret(self) -> str:
        """The service account's secret key.

        Raises:
            StackWatchError: not configured, or the file cannot be read.
        """
        return _cloudstack_secret("STACKWATCH_AUTOSCALE_", self.cloudstack_secret_key_file,
                                  self.cloudstack_secret_key)


def _cloudstack_secret(prefix: str, key_file: str | None, key: str | None) -> str:
    """The service account's secret key from ``<prefix>CLOUDSTACK_SECRET_KEY_FILE``, else the key itself.

    Raises:
        StackWatchError: neither is set, or the file cannot be read or is empty.
    """
    if key_file:
        try:
            secret = Path(key_file).read_text().strip()
        except OSError as e:
            raise errors.StackWatchError(f"cannot read {prefix}CLOUDSTACK_SECRET_KEY_FILE: {e.strerror}") from None
        if not secret:
            raise errors.StackWatchError(f"{prefix}CLOUDSTACK_SECRET_KEY_FILE is empty")
        return secret
    if key:
        return key
    raise errors.StackWatchError(f"{prefix}CLOUDSTACK_URL is set but no secret key is: set "
                                 f"{prefix}CLOUDSTACK_SECRET_KEY_FILE")
