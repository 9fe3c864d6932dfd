"""The every_type and orders rows of test/column-types.test.ts as DMS writes them with DataFormat=parquet (DECIMAL,
INT64, BOOLEAN, BINARY, DATE32, TIME, TIMESTAMP in micros or, with ParquetTimestampInMillisecond=true, millis).

  python dms_parquet.py EVERY_TYPE_DIR ORDERS_MS_DIR ORDERS_BAD_DIR
"""

import datetime as dt
import decimal
import sys

import pyarrow as pa
import pyarrow.parquet as pq

D = decimal.Decimal
UTC = dt.timezone.utc


def every_type_fields(op):
    f = [("id", pa.int64()), ("i16", pa.int16()), ("i32", pa.int32()), ("f32", pa.float32()), ("f64", pa.float64()),
         ("d_small", pa.decimal128(9, 2)), ("d_mid", pa.decimal128(18, 4)), ("d_wide", pa.decimal128(38, 10)),
         ("flag", pa.bool_()), ("txt", pa.string()), ("doc", pa.string()), ("blob", pa.binary()), ("day", pa.date32()),
         ("tod", pa.time64("us")), ("ts", pa.timestamp("us")), ("tstz", pa.timestamp("us", tz="UTC"))]
    return ([("Op", pa.string())] if op else []) + f


LOAD = [
    [-2**63, -32768, -2**31, float("nan"), float("-inf"), D("-9999999.99"), D("-99999999999999.9999"),
     D("-9999999999999999999999999999.9999999999"), False, "", '{"a": [1, 2]}', b"\x00\xff\x80", dt.date(1900, 1, 1),
     dt.time(0, 0), dt.datetime(1969, 12, 31, 23, 59, 59, 999999), dt.datetime(1950, 6, 1, 10, tzinfo=UTC)],
    [0] + [None] * 15,
    [2**63 - 1, 32767, 2**31 - 1, 3.4028234663852886e38, 506560.0, D("9999999.99"), D("99999999999999.9999"),
     D("9999999999999999999999999999.9999999999"), True, "Zürich 😀", '"x"', b"", dt.date(9999, 12, 31),
     dt.time(23, 59, 59, 999999), dt.datetime(2262, 4, 11, 23, 47, 16, 854775),
     dt.datetime(2038, 1, 19, 3, 14, 8, 123456, tzinfo=UTC)],
]
CHANGES = [
    ["U", 0, 7, -1, 0.1, -0.0, D("21000.00"), D("1.5"), D("-0.0000000001"), True, "null", "[]", bytes.fromhex("deadbeef"),
     dt.date(1969, 7, 20), dt.time(12, 34, 56, 500000), dt.datetime(2021, 10, 17, 19, 43, 24, 349000),
     dt.datetime(2021, 10, 18, 0, 43, 24, 349000, tzinfo=UTC)],
    ["I", 5, 1, 2, float("inf"), 1e-300, D("0"), D("0"), D("0"), False, "a,b", "{}", b"", dt.date(2000, 2, 29),
     dt.time(0, 0, 1), dt.datetime(1970, 1, 1), dt.datetime(1970, 1, 1, tzinfo=UTC)],
    ["I", 6, -2, -3, -1.5, 1.7976931348623157e308, D("-0.01"), D("-12345678901234.5678"),
     D("12345678901234567890123456.7890123456"), True, "Ωmega", '{"k": "v"}', bytes.fromhex("0102"),
     dt.date(2038, 1, 20), dt.time(7, 0, 0, 1), dt.datetime(2038, 1, 19, 3, 14, 8),
     dt.datetime(2500, 1, 1, 0, 0, 0, 1, tzinfo=UTC)],
    ["D", 2**63 - 1] + [None] * 15,
]


def write(rows, fields, path):
    cols = list(zip(*rows))
    pq.write_table(pa.table([pa.array(c, type=t) for c, (_, t) in zip(cols, fields)],
                            schema=pa.schema(fields)), path)


def orders_fields(op, amount=pa.decimal128(12, 2)):
    return ([("Op", pa.string())] if op else []) + [
        ("order_id", pa.int64()), ("line_no", pa.int16()), ("amount", amount), ("placed", pa.timestamp("ms", tz="UTC"))]


every, orders_ms, orders_bad = sys.argv[1:4]
write(LOAD, every_type_fields(False), every + "/LOAD00000001.parquet")
write(CHANGES, every_type_fields(True), every + "/20211017-194324349.parquet")
# orders with ParquetTimestampInMillisecond=true: the CSV fixture's rows (orders/*.csv)
write([[2, 1, D("10.00"), dt.datetime(2021, 10, 17, 10, tzinfo=UTC)],
       [1, 2, D("5.50"), dt.datetime(2021, 10, 17, 9, tzinfo=UTC)],
       [1, 1, D("21000.00"), dt.datetime(2021, 10, 16, 23, 59, 59, 500000, tzinfo=UTC)]],
      orders_fields(False), orders_ms + "/LOAD00000001.parquet")
write([["U", 1, 2, D("6.75"), dt.datetime(2021, 10, 17, 11, tzinfo=UTC)],
       ["D", 2, 1, None, None],
       ["I", 2, 1, D("-3.10"), dt.datetime(2021, 10, 18, tzinfo=UTC)],
       ["I", 10, 1, D("0.01"), None]],
      orders_fields(True), orders_ms + "/20211017-194324349.parquet")
# A DECIMAL with more fraction digits than the column's scale: refused, never rounded.
write([[1, 1, D("1.000"), None], [1, 2, D("1.005"), None]],
      orders_fields(False, pa.decimal128(12, 3)), orders_bad + "/LOAD00000001.parquet")
