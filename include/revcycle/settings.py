"""Deployment settings, read once from the environment.

Three homes for configuration (docs/layout.md): secrets live in Airflow
connections (``AIRFLOW_CONN_*`` in development), deployment settings here,
business configuration (payers, GL maps, SLA thresholds) in versioned files
under ``include/config``.  Every path defaults to a folder inside the
project's ``var/`` so the embedded default needs no service at all.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

# In a checkout (and an editable install) the data sits beside the package; a wheel installs it under
# <prefix>/share/revcycle (pyproject's data-files), so an installed revcycle runs outside the repository.
_CHECKOUT = Path(__file__).resolve().parents[2]
IN_CHECKOUT = (_CHECKOUT / "sql").is_dir() and (_CHECKOUT / "expectations").is_dir()
PROJECT_ROOT = _CHECKOUT if IN_CHECKOUT else Path(sys.prefix) / "share" / "revcycle"
CONFIG_DIR = PROJECT_ROOT / ("include/config" if IN_CHECKOUT else "config")
SQL_DIR = PROJECT_ROOT / "sql"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"
DAGS_DIR = PROJECT_ROOT / "dags"
PLUGINS_DIR = PROJECT_ROOT / "plugins"


@dataclass(frozen=True)
class Settings:
    home: Path
    inbound: Path
    raw_zone: Path
    lake: Path
    quarantine: Path
    outbound: Path
    reports: Path
    lineage_file: Path
    erp_url: str
    ops_url: str
    # Airflow connection ids: the secrets behind them never pass through here.
    inbound_conn_id: str
    erp_conn_id: str
    # Seconds a remote file's size and mtime must stay unchanged before landing.
    stable_seconds: float
    # Local stand-in for the payers' SFTP folders (outbound 276s) when a partner has no connection.
    exchange: Path = Path("exchange")
    # Sources that arrive over a partner's HTTPS API instead: source name -> (Airflow connection id, listing
    # path), from REVCYCLE_API_SOURCES="remittance=clearinghouse_api:/remittances,...".
    api_sources: dict = field(default_factory=dict)
    # FHIR Bulk Data sources (issue 27) export from this Airflow connection (auth smart); without it they land
    # nothing.  The synthetic day sends these payers' remittance as FHIR instead of X12 (none: "").
    fhir_conn_id: str = "revcycle_fhir_payer"
    fhir_payers: tuple = ("1555666777",)
    fhir_ehr_conn_id: str = "revcycle_fhir_ehr"
    fhir_ehr_share: float = 0.5  # run-day: the share of the OR's DFT usage the synthetic EHR sends as FHIR
    # A claim with no remittance and no final status is inquired (276) this many days after submission,
    # and again at most every ``reinquire_days``.
    inquiry_after_days: int = 21
    reinquire_days: int = 7
    # Our X12 identity and the payers we send to (ISA ids, SFTP connection ids).
    trading_partners_file: Path = Path("trading_partners.toml")
    # pyx12's implementation-guide pass (~10k segments/s) runs on files up to this many segments.
    ig_max_segments: int = 50_000
    # SLA thresholds, and where breaches are alerted besides the log (a JSON POST; a module:function).
    sla_file: Path = Path("sla.toml")
    alert_webhook: str = ""
    alert_callback: str = ""
    # DAG-level Deadline Alerts (the embedded `airflow dags test` runner turns them off).
    deadlines: bool = True
    # Modules a worker imports (and warms up) before it forks task processes, comma-separated.
    preload: str = ""
    # How many DAGs of one dependency wave `revcycle run-day` runs at once (default: the CPUs, at most 4).
    day_lanes: int = 1
    # An 835 or 277 up to this many MB is mapped whole, column by column (revcycle.x12.columnar); larger files,
    # and any file that path declines, stream through the set-by-set mappers. 0 turns the columnar path off.
    columnar_max_mb: int = 256
    # The raw zone on object storage (s3://bucket/prefix) instead of the raw_zone folder, and the Airflow
    # connection holding that store's keys and endpoint.
    raw_zone_url: str = ""
    storage_conn_id: str = ""
    # The lake on object storage (s3://bucket/prefix) instead of the lake folder.
    lake_url: str = ""
    # One object-storage root for every file the pipeline keeps (s3://bucket/prefix): raw/ and lake/ unless
    # their own URLs say otherwise, and the quarantine, acknowledgements, reports and finance extracts under
    # their path relative to home (written on the worker, then moved there; no disk shared between workers).
    storage_url: str = ""
    # Off: DAGs have no schedule and run only when triggered (a cluster replaying one chosen business day).
    schedules: bool = True
    # On: the scheduler creates a run for every missed interval since start_date (off: the latest only).
    catchup: bool = False
    # Seconds Airflow waits before a failed task's next try (every DAG has two retries).
    retry_delay_seconds: int = 120
    # The development cluster (revcycle cluster): the local servers it uses, its name (its databases are
    # named after it), its folder (empty: cluster/ under home), and the name a cluster worker records.
    cluster_pg: str = "postgresql://postgres@127.0.0.1:5432"
    cluster_redis: str = "redis://127.0.0.1:6379/11"
    cluster_name: str = "revcycle_cluster"
    cluster_workers: int = 2
    cluster_home: str = ""
    worker_name: str = ""

    @property
    def raw_root(self) -> str:
        """Where landed files go: REVCYCLE_RAW_ZONE_URL, else ``raw`` in the storage URL, else the raw folder."""
        return self.raw_zone_url.rstrip("/") or (f"{self.storage_url}/raw" if self.storage_url else str(self.raw_zone))

    @property
    def lake_root(self) -> str:
        """Where the lake is: REVCYCLE_LAKE_URL, else ``lake`` in the storage URL, else the local lake folder."""
        return self.lake_url.rstrip("/") or (f"{self.storage_url}/lake" if self.storage_url else str(self.lake))

    def ensure_dirs(self) -> None:
        for path in (self.lake, self.outbound, self.reports, self.lineage_file.parent):
            path.mkdir(parents=True, exist_ok=True)
        # May hold PHI (the inbound drop holds files as partners send them): owner and group only.
        for path in (self.inbound, self.raw_zone, self.quarantine, self.exchange):
            path.mkdir(mode=0o750, parents=True, exist_ok=True)
            if path.stat().st_uid == os.getuid():  # a drop folder another account owns (SFTP) is theirs to set
                path.chmod(0o750)


def _share(env: str, default: str) -> float:
    text = os.environ.get(env, default).strip() or "0"
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{env} must be a number from 0 to 1 (a share), not {text!r}")
    return value


def _path(env: str, default: Path) -> Path:
    value = os.environ.get(env)
    return Path(value).expanduser().resolve() if value else default


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    # The working folders: var/ of the checkout, or var/ under the current directory for an installed package.
    home = _path("REVCYCLE_HOME", (PROJECT_ROOT if IN_CHECKOUT else Path.cwd()) / "var")
    return Settings(
        home=home,
        inbound=_path("REVCYCLE_INBOUND", home / "inbound"),
        raw_zone=_path("REVCYCLE_RAW_ZONE", home / "raw"),
        lake=_path("REVCYCLE_LAKE", home / "lake"),
        quarantine=_path("REVCYCLE_QUARANTINE", home / "quarantine"),
        outbound=_path("REVCYCLE_OUTBOUND", home / "outbound"),
        reports=_path("REVCYCLE_REPORTS", home / "reports"),
        lineage_file=_path("REVCYCLE_LINEAGE_FILE", home / "lineage" / "events.jsonl"),
        erp_url=os.environ.get("REVCYCLE_ERP_URL", f"sqlite:///{home / 'erp.sqlite'}"),
        ops_url=os.environ.get("REVCYCLE_OPS_URL", f"sqlite:///{home / 'ops.sqlite'}"),
        inbound_conn_id=os.environ.get("REVCYCLE_INBOUND_CONN_ID", ""),
        erp_conn_id=os.environ.get("REVCYCLE_ERP_CONN_ID", ""),
        api_sources=_api_sources(os.environ.get("REVCYCLE_API_SOURCES", "")),
        fhir_conn_id=os.environ.get("REVCYCLE_FHIR_CONN_ID", "revcycle_fhir_payer"),
        fhir_payers=tuple(p for p in os.environ.get("REVCYCLE_FHIR_PAYERS", "1555666777").split(",") if p.strip()),
        fhir_ehr_conn_id=os.environ.get("REVCYCLE_FHIR_EHR_CONN_ID", "revcycle_fhir_ehr"),
        fhir_ehr_share=_share("REVCYCLE_FHIR_EHR_SHARE", "0.5"),
        stable_seconds=float(os.environ.get("REVCYCLE_STABLE_SECONDS", "0")),
        exchange=_path("REVCYCLE_EXCHANGE", home / "exchange"),
        inquiry_after_days=int(os.environ.get("REVCYCLE_INQUIRY_AFTER_DAYS", "21")),
        reinquire_days=int(os.environ.get("REVCYCLE_REINQUIRE_DAYS", "7")),
        trading_partners_file=_path("REVCYCLE_TRADING_PARTNERS", CONFIG_DIR / "trading_partners.toml"),
        ig_max_segments=int(os.environ.get("REVCYCLE_IG_MAX_SEGMENTS", "50000")),
        sla_file=_path("REVCYCLE_SLA_FILE", CONFIG_DIR / "sla.toml"),
        alert_webhook=os.environ.get("REVCYCLE_ALERT_WEBHOOK", ""),
        alert_callback=os.environ.get("REVCYCLE_ALERT_CALLBACK", ""),
        deadlines=os.environ.get("REVCYCLE_DEADLINES", "on").lower() not in ("off", "0", "false"),
        preload=os.environ.get("REVCYCLE_PRELOAD", ""),
        day_lanes=max(1, int(os.environ.get("REVCYCLE_DAY_LANES") or min(os.cpu_count() or 1, 4))),
        columnar_max_mb=max(0, int(os.environ.get("REVCYCLE_COLUMNAR_MAX_MB", "256"))),
        raw_zone_url=os.environ.get("REVCYCLE_RAW_ZONE_URL", ""),
        storage_conn_id=os.environ.get("REVCYCLE_STORAGE_CONN_ID", ""),
        lake_url=os.environ.get("REVCYCLE_LAKE_URL", ""),
        storage_url=os.environ.get("REVCYCLE_STORAGE_URL", "").rstrip("/"),
        schedules=os.environ.get("REVCYCLE_SCHEDULES", "on").lower() not in ("off", "0", "false"),
        catchup=os.environ.get("REVCYCLE_CATCHUP", "off").lower() in ("on", "1", "true"),
        retry_delay_seconds=int(os.environ.get("REVCYCLE_RETRY_DELAY_SECONDS", "120")),
        cluster_pg=os.environ.get("REVCYCLE_CLUSTER_PG", "postgresql://postgres@127.0.0.1:5432"),
        cluster_redis=os.environ.get("REVCYCLE_CLUSTER_REDIS", "redis://127.0.0.1:6379/11"),
        cluster_name=os.environ.get("REVCYCLE_CLUSTER_NAME", "revcycle_cluster"),
        cluster_workers=max(1, int(os.environ.get("REVCYCLE_CLUSTER_WORKERS", "2"))),
        cluster_home=os.environ.get("REVCYCLE_CLUSTER_HOME", ""),
        worker_name=os.environ.get("REVCYCLE_WORKER_NAME", ""),
    )


def token_key() -> str:
    """The key of the PHI tokens (``REVCYCLE_TOKEN_KEY``), read when asked and never kept on ``Settings``,
    so no repr or log of the settings can show it; empty when unset (revcycle.domain.phi then keeps one
    of its own under ``var/secrets``)."""
    return os.environ.get("REVCYCLE_TOKEN_KEY", "")


def arrow_pool_named() -> bool:
    """Whether the deployment chose Arrow's allocator itself (pyarrow's ``ARROW_DEFAULT_MEMORY_POOL``);
    otherwise revcycle.x12.columnar picks the C library's."""
    return "ARROW_DEFAULT_MEMORY_POOL" in os.environ


def use_environment(values: dict[str, str]) -> None:
    """Run this process with these settings from now on (``run-day --on cluster`` takes the cluster's)."""
    os.environ.update(values)
    reset_settings()


@contextmanager
def airflow_connection(conn_id: str, value: str) -> Iterator[None]:
    """An Airflow connection (``AIRFLOW_CONN_<ID>``, its JSON form) in this process's environment, and so in
    every DAG run it starts, for the block's length (run-day's synthetic FHIR payer)."""
    variable = f"AIRFLOW_CONN_{conn_id.upper()}"
    before = os.environ.get(variable)
    os.environ[variable] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = before


def reset_settings() -> None:
    """Forget the cached settings (tests change the environment)."""
    get_settings.cache_clear()


def _api_sources(text: str) -> dict[str, tuple[str, str]]:
    """``remittance=clearinghouse_api:/remittances,other=conn:/path`` -> {source: (conn id, listing path)}."""
    out = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        source, _, target = part.partition("=")
        conn_id, _, path = target.partition(":")
        if not source or not conn_id or not path.startswith("/"):
            raise ValueError(f"REVCYCLE_API_SOURCES entry {part!r}: expected source=conn_id:/listing/path")
        out[source.strip()] = (conn_id.strip(), path.strip())
    return out
