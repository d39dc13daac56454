"""How CloudWatch prints numbers and times in alarm reasons, reason data and history.

CloudWatch is a Java service and it shows: doubles print as Java's ``Double.toString`` (``1.0``,
``7.272883842388789``, ``1.0E7``), datapoint times in a StateReason as ``dd/MM/yy HH:mm:ss``, times
in JSON as ``yyyy-MM-dd'T'HH:mm:ss.SSS+0000``, and a composite alarm's reason as
``Friday 04 August, 2023 12:54:46 UTC``. All in UTC.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import Decimal


def java_double(x: float) -> str:
    """``x`` as Java's ``Double.toString`` prints it (with the shortest round-trip digits).

    Plain notation with at least one decimal for magnitudes in [1e-3, 1e7), else one digit, the
    decimals and ``E<exponent>``.

    Examples:
        >>> java_double(5.0), java_double(0.1), java_double(12345678.0), java_double(0.0001)
        ('5.0', '0.1', '1.2345678E7', '1.0E-4')
    """
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    sign = "-" if math.copysign(1.0, x) < 0 else ""
    a = abs(x)
    if a == 0:
        return sign + "0.0"
    d = Decimal(repr(a))
    if 1e-3 <= a < 1e7:
        text = format(d, "f")
        return sign + (text if "." in text else text + ".0")
    t = d.normalize().as_tuple()
    digits = "".join(map(str, t.digits))
    exponent = int(t.exponent) + len(digits) - 1
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent}"


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: pass an aware (UTC) time")
    return moment.astimezone(UTC)


def reason_time(moment: datetime) -> str:
    """A datapoint's time in a StateReason: ``03/12/26 10:01:00`` (day/month/year)."""
    return _utc(moment).strftime("%d/%m/%y %H:%M:%S")


def json_time(moment: datetime) -> str:
    """A time in reason data or history data: ``2026-12-03T10:01:00.000+0000``."""
    u = _utc(moment)
    return u.strftime("%Y-%m-%dT%H:%M:%S.") + f"{u.microsecond // 1000:03d}+0000"


def long_time(moment: datetime) -> str:
    """A time in a composite alarm's reason: ``Friday 04 August, 2023 12:54:46 UTC``.

    Day and month names are English whatever the process locale.
    """
    u = _utc(moment)
    return f"{_DAYS[u.weekday()]} {u.day:02d} {_MONTHS[u.month - 1]}, {u.year} {u:%H:%M:%S} UTC"


_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


JsonValue = str | int | float | bool | None | list["JsonValue"] | dict[str, "JsonValue"]


def java_json(value: JsonValue) -> str:
    """Compact JSON as CloudWatch writes it: keys in the order given, doubles as :func:`java_double`.

    ``int`` values print as integers (``"period":60``), ``float`` values as Java doubles
    (``"threshold":80.0``, ``"value":1.0E7``), so a reason data document reads as AWS's does.

    Raises:
        ValueError: a non-finite float (JSON has no NaN or Infinity).
    """
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} has no JSON form")
        return java_double(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ",".join(java_json(v) for v in value) + "]"
    return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{java_json(v)}" for k, v in value.items()) + "}"
