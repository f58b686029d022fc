"""What a failure at parse or validate makes of the file: a quarantine the file earned, or nothing (the machine's
failure, retried). Found by the chaos run (issue 26): SeaweedFS stopped for 14 s during a day quarantined an
835 as VALIDATION_ERROR, because botocore's EndpointConnectionError is no OSError."""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from sqlalchemy.exc import OperationalError

from revcycle.errors import MappingError
from revcycle.pipeline.stage import failure_reason


def _raised_from(exc: BaseException, cause: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise exc from inner
    except BaseException as outer:  # noqa: BLE001 - builds the chain under test
        return outer


@pytest.mark.parametrize(
    "exc",
    [
        _raised_from(EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), ConnectionRefusedError(111, "x")),
        EndpointConnectionError(endpoint_url="http://127.0.0.1:9"),
        ReadTimeoutError(endpoint_url="http://127.0.0.1:9"),
        _raised_from(ValueError("while reading"), ConnectionResetError(104, "x")),
        OperationalError("select 1", {}, Exception("server closed the connection")),
        FileNotFoundError(2, "gone"),
        MemoryError(),
    ],
    ids=["s3-down-wrapped", "s3-down", "s3-timeout", "raised-while-io-failed", "database", "file", "memory"],
)
def test_the_machines_failures_are_retried_not_quarantined(exc):
    assert failure_reason(exc, "validate") is None
    assert failure_reason(exc, "parse") is None


def test_the_files_own_failures_quarantine_it():
    assert failure_reason(MappingError("BAD_DATE", "DTM02"), "parse") == ("BAD_DATE", "DTM02")
    assert failure_reason(KeyError("x"), "validate") == ("VALIDATION_ERROR", "KeyError while validating the file")
    assert failure_reason(ZeroDivisionError(), "parse") == ("PARSER_ERROR", "ZeroDivisionError while parsing the file")
