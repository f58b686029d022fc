"""The FHIR Bulk Data route against a real HTTPS server (revcycle.synthetic.fhir_server): SMART Backend Services
authorisation (a signed JWT assertion), the $export flow, incremental pulls by watermark, and the failures a
partner gives: refused assertions, 429/503 with Retry-After, an export that fails midway."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import os
import random
import time

import pytest

from revcycle.adapters.fhir_bulk import BulkExport, watermark
from revcycle.adapters.landing import land_source
from revcycle.adapters.partner_api import PartnerApi, PartnerConfig
from revcycle.errors import RevcycleError
from revcycle.synthetic import fhir_remittance, remittance_835
from revcycle.synthetic.fhir_server import Behaviour, fhir_server, new_private_key, public_key_of
from revcycle.synthetic.identities import PAYERS

TYPES = ("PaymentReconciliation", "ExplanationOfBenefit")
DAY = dt.date(2026, 12, 2)


def _store(root, day=DAY, claims=40, seed=1):
    psets = list(remittance_835.payment_sets(random.Random(seed), PAYERS[2], day, 1, claims, itertools.count(1)))
    fhir_remittance.write_payments(root / "store" / PAYERS[2].payer_id / day.isoformat(), PAYERS[2], day, psets)
    return psets


def _config(server, key, alg="ES384", **extra) -> PartnerConfig:
    conn = json.loads(server.connection(key, alg))
    return PartnerConfig(
        name=f"fhir-{alg}",
        base_url=server.base_url,
        auth="smart",
        client_id=conn["login"],
        client_key=key,
        token_url=server.token_url,
        ca_cert=server.ca_pem,
        max_attempts=4,
        backoff_seconds=0.01,
        extra={**conn["extra"], **extra},
    )


def _export(server, key, pauses=None, **kw) -> BulkExport:
    sleep = pauses.append if pauses is not None else (lambda s: None)
    api = PartnerApi(_config(server, key, **kw), sleep=sleep)
    return BulkExport(api, "fhir_remittance", TYPES, sleep=sleep)


@pytest.mark.parametrize("alg", ["ES384", "RS384"])
def test_an_export_lands_once_and_the_next_pull_fetches_nothing(rc_home, tmp_path, alg):
    psets = _store(tmp_path)
    key = new_private_key(alg)
    with fhir_server(tmp_path / "store", public_key_of(key), tmp_path / "tls", Behaviour(polls_before_ready=2)) as srv:
        pauses: list[float] = []
        export = _export(srv, key, pauses, alg=alg)
        result = land_source("fhir_remittance", export, rc_home / "raw", ("*.ndjson",), DAY, 0, None)
        export.commit()
        assert len(result.landed) == 1 and result.refused == []
        assert export.progress == ["33% done", "66% done"] and pauses == [1.0, 1.0]  # Retry-After honoured
        mark = watermark("fhir_remittance")
        assert mark and srv.behaviour.kickoffs[0]["_since"] is None
        assert len(srv.behaviour.deleted) == 1  # the job is deleted once its files are landed
        text = next(p for p in (rc_home / "raw" / "fhir_remittance").rglob("*") if p.is_file()).read_text()
        assert text.count('"resourceType":"PaymentReconciliation"') == len(psets)
        # The same day again: the kick-off asks _since the watermark, and nothing is new.
        again = _export(srv, key, alg=alg)
        assert land_source("fhir_remittance", again, rc_home / "raw", ("*.ndjson",), DAY, 0, None).landed == []
        again.commit()
        assert srv.behaviour.kickoffs[1]["_since"] == mark
        # A later day's resources: only they come.
        time.sleep(0.01)
        later = _store(tmp_path, DAY + dt.timedelta(days=1), claims=10, seed=2)
        third = _export(srv, key, alg=alg)
        files = third.list()
        buf = io.BytesIO()
        third.fetch(files[0].name, buf)
        assert buf.getvalue().count(b'"resourceType":"PaymentReconciliation"') == len(later)
        assert all(p.trace.encode() not in buf.getvalue() for p in psets)
        # One token served every call of an export (reused until near its expiry).
        assert srv.behaviour.tokens_issued == 3


def test_an_export_that_fails_midway_lands_nothing_and_keeps_the_watermark(rc_home, tmp_path):
    _store(tmp_path)
    _store(tmp_path, DAY + dt.timedelta(days=1), seed=3)
    key = new_private_key()
    b = Behaviour(polls_before_ready=0, fail_download={2})
    with fhir_server(tmp_path / "store", public_key_of(key), tmp_path / "tls", b) as srv:
        export = _export(srv, key)
        with pytest.raises(RevcycleError) as failed:
            land_source("fhir_remittance", export, rc_home / "raw", ("*.ndjson",), DAY, 0, None)
        assert failed.value.reason == "FHIR_EXPORT_FAILED" and "output-2" in failed.value.detail
        assert watermark("fhir_remittance") is None
        assert not [p for p in (rc_home / "raw").rglob("*") if p.is_file()]
        b.fail_download.clear()
        retry = _export(srv, key)
        assert len(land_source("fhir_remittance", retry, rc_home / "raw", ("*.ndjson",), DAY, 0, None).landed) == 1
        retry.commit()
        assert watermark("fhir_remittance") is not None and b.kickoffs[-1]["_since"] is None


def test_a_failed_job_and_a_busy_server(rc_home, tmp_path):
    _store(tmp_path)
    key = new_private_key()
    b = Behaviour(polls_before_ready=0, retry_after=3, fail_next={"/$export": [429, 503]})
    with fhir_server(tmp_path / "store", public_key_of(key), tmp_path / "tls", b) as srv:
        pauses: list[float] = []
        export = _export(srv, key, pauses)
        assert len(export.list()) == 1
        assert pauses[:2] == [3.0, 3.0]  # 429 then 503, each waited out as the server asked
        b.fail_job = True
        with pytest.raises(RevcycleError) as failed:
            _export(srv, key).list()
        assert failed.value.reason == "FHIR_EXPORT_FAILED" and "(exception)" in failed.value.detail


@pytest.mark.parametrize(
    "fault, why",
    [
        ("wrong_key", "signature does not verify"),
        ("expired", "has expired"),
        ("replayed_jti", "jti was used before"),
        ("wrong_audience", "aud is not this token endpoint"),
    ],
)
def test_refused_authorisation_is_api_auth_with_its_reason_and_no_retry(rc_home, tmp_path, monkeypatch, fault, why):
    from revcycle.adapters import smart_auth

    _store(tmp_path)
    key = new_private_key()
    b = Behaviour()
    with fhir_server(tmp_path / "store", public_key_of(key), tmp_path / "tls", b) as srv:
        config = _config(srv, key)
        if fault == "wrong_key":
            config.client_key = new_private_key()
        elif fault == "expired":
            monkeypatch.setattr(smart_auth, "ASSERTION_SECONDS", -60)
        elif fault == "replayed_jti":
            monkeypatch.setattr(smart_auth.secrets, "token_urlsafe", lambda n: "the-same-jti")
            PartnerApi(_config(srv, key)).request("GET", "/jobs/none", business_key="first")  # jti used once
        elif fault == "wrong_audience":
            monkeypatch.setattr(
                smart_auth.SmartBackendAuth,
                "sign",
                lambda self, auth, endpoint, sign=smart_auth.SmartBackendAuth.sign: sign(self, auth, endpoint + "x"),
            )
        refusals = len(b.refusals)
        with pytest.raises(RevcycleError) as refused:
            BulkExport(PartnerApi(config), "fhir_remittance", TYPES, sleep=lambda s: None).list()
        assert refused.value.reason == "API_AUTH" and why in refused.value.detail
        assert len(b.refusals) == refusals + 1  # asked once: a refused assertion is not retried
        assert watermark("fhir_remittance") is None


def test_outputs_without_a_token_and_error_outputs_are_kept(rc_home, tmp_path):
    _store(tmp_path)
    key = new_private_key()
    b = Behaviour(polls_before_ready=0, requires_access_token=False, error_outcomes=2)
    with fhir_server(tmp_path / "store", public_key_of(key), tmp_path / "tls", b) as srv:
        export = _export(srv, key)
        export.errors_dir = tmp_path / "errors"
        assert len(land_source("fhir_remittance", export, rc_home / "raw", ("*.ndjson",), DAY, 0, None).landed) == 1
        export.commit()
        kept = list((tmp_path / "errors").iterdir())
        assert len(kept) == 1 and kept[0].read_text().count("OperationOutcome") == 2
        assert kept[0].stat().st_mode & 0o007 == 0  # may quote data: never readable by others
        assert (
            b.downloads_without_token == 2
        )  # both outputs: our token is not sent where the manifest says none is needed
    assert os.environ.get("AIRFLOW_CONN_REVCYCLE_FHIR_PAYER") is None
