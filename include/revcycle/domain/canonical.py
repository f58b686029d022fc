"""Canonical datasets: Arrow schemas, one per ``canonical__<entity>``, with the grain of each.

Money is decimal128(18,2), quantities decimal128(18,3), dates date32.  Every
dataset carries ``data_source``, ``file_name`` (the raw-zone sha256),
``ingest_datetime`` (when the file was first landed, so replays stay
byte-identical) and ``business_date``.
"""

from __future__ import annotations

from operator import itemgetter

import pyarrow as pa
import pyarrow.compute as pc

from revcycle.errors import MappingError

MONEY = pa.decimal128(18, 2)
QTY = pa.decimal128(18, 3)
KEY = pa.string()

_LINEAGE = [
    ("data_source", pa.string()),
    ("file_name", pa.string()),
    ("ingest_datetime", pa.timestamp("s")),
    ("business_date", pa.date32()),
]


LINEAGE_COLUMNS = tuple(name for name, _ in _LINEAGE)


def business_rows(table: pa.Table) -> list[dict]:
    """A canonical table's rows as dicts without its lineage columns (a posting rule never reads them, and
    turning ``ingest_datetime`` and the rest into Python objects was a third of a remittance's ``to_pylist``)."""
    return table.drop_columns([c for c in LINEAGE_COLUMNS if c in table.column_names]).to_pylist()


def _schema(fields: list[tuple[str, pa.DataType]]) -> pa.Schema:
    return pa.schema([pa.field(n, t) for n, t in fields + _LINEAGE])


SCHEMAS: dict[str, pa.Schema] = {
    # Grain: one 835 transaction set (one payment or remittance advice).
    "canonical__remittance": _schema(
        [
            ("remittance_key", KEY),
            ("interchange_sender_id", pa.string()),
            ("interchange_control_number", pa.string()),
            ("group_control_number", pa.string()),
            ("transaction_control_number", pa.string()),
            ("implementation_version", pa.string()),
            ("handling_code", pa.string()),
            ("payment_amount", MONEY),
            ("credit_debit_flag", pa.string()),
            ("payment_method", pa.string()),
            ("payment_format", pa.string()),
            ("payment_date", pa.date32()),
            ("payment_date_raw", pa.string()),
            ("trace_number", pa.string()),
            ("payer_identifier", pa.string()),
            ("payer_name", pa.string()),
            ("payer_id", pa.string()),
            ("payer_reference", pa.string()),
            ("payee_name", pa.string()),
            ("payee_id_qualifier", pa.string()),
            ("payee_id", pa.string()),
            ("production_date", pa.date32()),
            ("claim_count", pa.int32()),
            ("sum_claim_paid_amount", MONEY),
            ("sum_provider_adjustment_amount", MONEY),
        ]
    ),
    # Grain: one CLP claim payment inside a remittance (ordinal position, CLP01 repeats in real files).
    "canonical__claim_payment": _schema(
        [
            ("claim_payment_key", KEY),
            ("remittance_key", KEY),
            ("claim_seq", pa.int32()),
            ("patient_control_number", pa.string()),
            ("claim_status_code", pa.string()),
            ("charge_amount", MONEY),
            ("paid_amount", MONEY),
            ("patient_responsibility_amount", MONEY),
            ("claim_filing_indicator", pa.string()),
            ("payer_claim_control_number", pa.string()),
            ("facility_type_code", pa.string()),
            ("claim_frequency_code", pa.string()),
            ("drg_code", pa.string()),
            ("is_reversal", pa.bool_()),
            ("patient_token", pa.string()),
            ("insured_token", pa.string()),
            ("statement_from_date", pa.date32()),
            ("statement_to_date", pa.date32()),
            ("received_date", pa.date32()),
            ("coverage_amount", MONEY),
            ("original_reference", pa.string()),
        ]
    ),
    # Grain: one SVC service line payment of a claim payment.
    "canonical__service_line_payment": _schema(
        [
            ("service_line_key", KEY),
            ("claim_payment_key", KEY),
            ("remittance_key", KEY),
            ("line_seq", pa.int32()),
            ("procedure_qualifier", pa.string()),
            ("procedure_code", pa.string()),
            ("procedure_modifiers", pa.string()),
            ("charge_amount", MONEY),
            ("paid_amount", MONEY),
            ("revenue_code", pa.string()),
            ("units_paid", QTY),
            ("line_control_number", pa.string()),
            ("service_date", pa.date32()),
            ("service_date_end", pa.date32()),
        ]
    ),
    # Grain: one CAS reason/amount/quantity triplet at claim or service line level.
    "canonical__adjustment": _schema(
        [
            ("adjustment_key", KEY),
            ("remittance_key", KEY),
            ("claim_payment_key", KEY),
            ("service_line_key", KEY),
            ("level", pa.string()),
            ("cas_seq", pa.int32()),
            ("triplet_seq", pa.int32()),
            ("group_code", pa.string()),
            ("reason_code", pa.string()),
            ("amount", MONEY),
            ("quantity", QTY),
        ]
    ),
    # Grain: one PLB reason/reference/amount pair of a remittance.
    "canonical__provider_adjustment": _schema(
        [
            ("provider_adjustment_key", KEY),
            ("remittance_key", KEY),
            ("plb_seq", pa.int32()),
            ("pair_seq", pa.int32()),
            ("provider_identifier", pa.string()),
            ("fiscal_period_date", pa.date32()),
            ("reason_code", pa.string()),
            ("reference", pa.string()),
            ("amount", MONEY),
        ]
    ),
    # Grain: one remittance advice remark code (RARC) from MOA/MIA at claim level or LQ*HE at line level.
    "canonical__remark": _schema(
        [
            ("remark_key", KEY),
            ("remittance_key", KEY),
            ("claim_payment_key", KEY),
            ("service_line_key", KEY),
            ("level", pa.string()),
            ("segment", pa.string()),
            ("remark_code", pa.string()),
        ]
    ),
    # Grain: one STC status composite (STC01, STC10 or STC11) of a 277/277CA, at its HL level.
    "canonical__claim_status_event": _schema(
        [
            ("claim_status_event_key", KEY),
            ("status_set_key", KEY),
            ("interchange_sender_id", pa.string()),
            ("interchange_control_number", pa.string()),
            ("transaction_control_number", pa.string()),
            ("implementation", pa.string()),
            ("level", pa.string()),
            ("hl_id", pa.string()),
            ("stc_seq", pa.int32()),
            ("composite_seq", pa.int32()),
            ("payer_id", pa.string()),
            ("payer_name", pa.string()),
            ("receiver_id", pa.string()),
            ("provider_id", pa.string()),
            ("member_token", pa.string()),
            ("trace_number", pa.string()),
            ("patient_control_number", pa.string()),
            ("payer_claim_control_number", pa.string()),
            ("claim_seq", pa.int32()),
            ("line_seq", pa.int32()),
            ("procedure_qualifier", pa.string()),
            ("procedure_code", pa.string()),
            ("line_charge_amount", MONEY),
            ("category_code", pa.string()),
            ("status_code", pa.string()),
            ("entity_code", pa.string()),
            ("code_list_qualifier", pa.string()),
            ("category_description", pa.string()),
            ("status_description", pa.string()),
            ("status_date", pa.date32()),
            ("action_code", pa.string()),
            ("charge_amount", MONEY),
            ("payment_amount", MONEY),
            ("adjudication_date", pa.date32()),
            ("payment_method", pa.string()),
            ("check_date", pa.date32()),
            ("check_number", pa.string()),
            ("has_free_text", pa.bool_()),
            ("service_date", pa.date32()),
            ("service_date_end", pa.date32()),
        ]
    ),
    # Grain: one claim in the billing system's open A/R snapshot of a day (member id tokenised, names dropped).
    "canonical__claim_open_item": _schema(
        [
            ("open_item_key", KEY),
            ("claim_key", KEY),
            ("payer_id", pa.string()),
            ("patient_control_number", pa.string()),
            ("payer_claim_control_number", pa.string()),
            ("billed_amount", MONEY),
            ("service_date_from", pa.date32()),
            ("service_date_to", pa.date32()),
            ("submitted_date", pa.date32()),
            ("billing_provider_npi", pa.string()),
            ("member_token", pa.string()),
            ("source_line", pa.int32()),
        ]
    ),
    # Grain: one AK2 transaction set answer of a 999 received from a trading partner.
    "canonical__x12_acknowledgement": _schema(
        [
            ("acknowledgement_key", KEY),
            ("interchange_sender_id", pa.string()),
            ("interchange_control_number", pa.string()),
            ("transaction_control_number", pa.string()),
            ("functional_id", pa.string()),
            ("acknowledged_group_control", pa.string()),
            ("acknowledged_version", pa.string()),
            ("set_seq", pa.int32()),
            ("acknowledged_set_id", pa.string()),
            ("acknowledged_set_control", pa.string()),
            ("set_status", pa.string()),
            ("syntax_error_codes", pa.string()),
            ("error_segments", pa.string()),
            ("element_errors", pa.int32()),
            ("group_status", pa.string()),
        ]
    ),
    # Grain: one supply/implant usage line: an FT1 of a DFT message, or a row of the OR usage export.
    "canonical__supply_usage": _schema(
        [
            ("usage_key", KEY),
            ("source_format", pa.string()),
            ("message_control_id", pa.string()),
            ("line_seq", pa.int32()),
            ("transaction_id", pa.string()),
            ("transaction_date", pa.date32()),
            ("transaction_type", pa.string()),
            ("case_id", pa.string()),
            ("encounter_token", pa.string()),
            ("patient_token", pa.string()),
            ("item_code", pa.string()),
            ("item_text", pa.string()),
            ("item_code_system", pa.string()),
            ("vendor_item_number", pa.string()),
            ("erp_item_id", pa.string()),
            ("item_status", pa.string()),
            ("supplier_id", pa.string()),
            ("gtin", pa.string()),
            ("gtin_check_ok", pa.bool_()),
            ("udi", pa.string()),
            ("lot", pa.string()),
            ("serial", pa.string()),
            ("expiry_date", pa.date32()),
            ("quantity", QTY),
            ("quantity_defaulted", pa.bool_()),
            ("unit_of_measure", pa.string()),
            ("unit_cost", pa.decimal128(18, 4)),
            ("charge_amount", MONEY),
            ("master_unit_cost", pa.decimal128(18, 4)),
            ("price_within_tolerance", pa.bool_()),
            ("department", pa.string()),
            ("procedure_code", pa.string()),
            ("procedure_modifiers", pa.string()),
            ("performing_provider_id", pa.string()),
            ("ordering_provider_id", pa.string()),
            ("implant_flag", pa.bool_()),
            ("consignment_flag", pa.bool_()),
        ]
    ),
    # Grain: one line of a supplier invoice.
    "canonical__supplier_invoice_line": _schema(
        [
            ("invoice_line_key", KEY),
            ("invoice_number", pa.string()),
            ("supplier_id", pa.string()),
            ("invoice_date", pa.date32()),
            ("line_number", pa.int32()),
            ("vendor_item_number", pa.string()),
            ("erp_item_id", pa.string()),
            ("item_status", pa.string()),
            ("gtin", pa.string()),
            ("lot", pa.string()),
            ("serial", pa.string()),
            ("quantity", QTY),
            ("unit_price", pa.decimal128(18, 4)),
            ("extended_amount", MONEY),
            ("po_reference", pa.string()),
        ]
    ),
    # Grain: one line of the bank's deposit report.
    "canonical__bank_deposit": _schema(
        [
            ("deposit_key", KEY),
            ("bank_reference", pa.string()),
            ("deposit_date", pa.date32()),
            ("originator_id", pa.string()),
            ("trace_number", pa.string()),
            ("amount", MONEY),
            ("deposit_type", pa.string()),
            ("source_line", pa.int32()),
        ]
    ),
    # Grain: one balancing check of one key at one level (service line, claim, transaction).
    "check__balance": _schema(
        [
            ("level", pa.string()),
            ("key", KEY),
            ("transaction_control_number", pa.string()),
            ("difference_cents", pa.int64()),
        ]
    ),
}


# Longest value a text column may hold: the implementation guide's maximum for the element it comes from
# (X12 005010 TR3s: CLP01 1/38, TRN02 1/50, ST02 4/9, ...), never more than the ERP column it posts to.
# Checked before anything is staged, so a value the ERP would refuse never reaches the lake.
MAX_LENGTH: dict[str, dict[str, tuple[int, str]]] = {
    "canonical__remittance": {
        "interchange_sender_id": (15, "ISA06"),
        "interchange_control_number": (9, "ISA13"),
        "group_control_number": (9, "GS06"),
        "transaction_control_number": (9, "ST02"),
        "implementation_version": (12, "GS08/ST03"),
        "handling_code": (2, "BPR01"),
        "credit_debit_flag": (1, "BPR03"),
        "payment_method": (3, "BPR04"),
        "payment_format": (10, "BPR05"),
        "payment_date_raw": (8, "BPR16"),
        "trace_number": (50, "TRN02"),
        "payer_identifier": (10, "TRN03"),
        "payer_name": (60, "N102 (PR)"),
        "payer_id": (80, "N104 (PR)"),
        "payer_reference": (50, "REF02 (2U)"),
        "payee_name": (60, "N102 (PE)"),
        "payee_id_qualifier": (2, "N103 (PE)"),
        "payee_id": (80, "N104 (PE)"),
    },
    "canonical__claim_payment": {
        "patient_control_number": (38, "CLP01"),
        "claim_status_code": (2, "CLP02"),
        "claim_filing_indicator": (2, "CLP06"),
        "payer_claim_control_number": (50, "CLP07"),
        "facility_type_code": (2, "CLP08"),
        "claim_frequency_code": (1, "CLP09"),
        "drg_code": (4, "CLP11"),
        "original_reference": (50, "REF02 (F8/1K)"),
    },
    "canonical__service_line_payment": {
        "procedure_qualifier": (2, "SVC01-1"),
        "procedure_code": (48, "SVC01-2"),
        "procedure_modifiers": (11, "SVC01-3..6"),
        "revenue_code": (48, "SVC04"),
        "line_control_number": (50, "REF02 (6R)"),
    },
    "canonical__adjustment": {"group_code": (2, "CAS01"), "reason_code": (5, "CAS02")},
    "canonical__provider_adjustment": {
        "provider_identifier": (50, "PLB01"),
        "reason_code": (2, "PLB03-1"),
        "reference": (50, "PLB03-2"),
    },
    "canonical__remark": {"remark_code": (50, "MOA/MIA/LQ02")},
    "canonical__claim_status_event": {
        "interchange_sender_id": (15, "ISA06"),
        "interchange_control_number": (9, "ISA13"),
        "transaction_control_number": (9, "ST02"),
        "payer_id": (80, "NM109 (PR)"),
        "trace_number": (50, "TRN02"),
        "patient_control_number": (50, "REF02 (EJ) / TRN02"),
        "payer_claim_control_number": (50, "REF02 (1K)"),
        "procedure_code": (48, "SVC01-2"),
        "category_code": (3, "STC01-1"),
        "status_code": (8, "STC01-2"),
        "entity_code": (3, "STC01-3"),
        "check_number": (16, "STC09"),
    },
    "canonical__x12_acknowledgement": {
        "interchange_sender_id": (15, "ISA06"),
        "interchange_control_number": (9, "ISA13"),
        "acknowledged_group_control": (9, "AK102"),
        "acknowledged_set_id": (3, "AK201"),
        "acknowledged_set_control": (9, "AK202"),
        "set_status": (1, "IK501"),
        "group_status": (1, "AK901"),
    },
    "canonical__claim_open_item": {
        "payer_id": (80, "payer_id"),
        "patient_control_number": (38, "patient_control_number (CLM01)"),
        "payer_claim_control_number": (50, "payer_claim_control_number"),
    },
    "canonical__supply_usage": {
        "case_id": (60, "case id"),
        "lot": (60, "lot"),
        "serial": (60, "serial"),
        "department": (60, "FT1-13"),
        "unit_of_measure": (10, "unit of measure"),
        "vendor_item_number": (60, "vendor item number"),
    },
    "canonical__supplier_invoice_line": {
        "invoice_number": (60, "invoice_number"),
        "supplier_id": (40, "supplier_id"),
        "vendor_item_number": (60, "vendor_item_number"),
        "lot": (60, "lot"),
        "serial": (60, "serial"),
        "po_reference": (60, "po_reference"),
    },
}


def too_long(dataset: str, row: dict) -> tuple[str, int, str] | None:
    """The first column of one row longer than its maximum: (column, maximum, element); None if all fit."""
    for column, (limit, element) in MAX_LENGTH.get(dataset, {}).items():
        value = row.get(column)
        if value is not None and len(value) > limit:
            return column, limit, element
    return None


def _check_lengths(dataset: str, table: pa.Table) -> None:
    for column, (limit, element) in MAX_LENGTH.get(dataset, {}).items():
        longest = pc.max(pc.utf8_length(table.column(column))).as_py()
        if longest is not None and longest > limit:
            raise MappingError(
                "ELEMENT_TOO_LONG",
                f"{dataset}.{column} holds a value of {longest} characters; {element} allows at most {limit}",
            )


def to_table(dataset: str, rows: list[dict], lineage: dict) -> pa.Table:
    """Rows (dicts of Python values) plus the file's lineage columns, as a typed Arrow table whose text
    fits the element maxima (``MappingError`` ELEMENT_TOO_LONG otherwise)."""
    columns = {}
    for f in SCHEMAS[dataset]:
        if f.name not in lineage:
            try:  # a column every row has (mappers create records with all their columns): C-level lookups
                values = list(map(itemgetter(f.name), rows))
            except KeyError:
                values = [r.get(f.name) for r in rows]
            columns[f.name] = pa.array(values, type=f.type)
    return with_lineage(dataset, columns, len(rows), lineage)


def with_lineage(dataset: str, columns: dict[str, pa.Array | pa.ChunkedArray], rows: int, lineage: dict) -> pa.Table:
    """A dataset's own columns, typed as its schema says (any order), plus the file's lineage columns, as
    its canonical table; its text must fit the element maxima (``MappingError`` ELEMENT_TOO_LONG)."""
    schema = SCHEMAS[dataset]
    arrays = [
        pa.repeat(pa.scalar(lineage[f.name], f.type), rows) if f.name in lineage else columns[f.name] for f in schema
    ]
    table = pa.Table.from_arrays(arrays, schema=schema)
    _check_lengths(dataset, table)
    return table
