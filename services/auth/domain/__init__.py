"""The auth service's pure core: credentials, SigV4 verification, request-time windows.

Nothing here does I/O or reads the clock: the servicer passes ``now`` in and the credential it
looked up. The exported names:

* :class:`Credential` - one access key: its secret (never printed), the tenant it belongs to and
  whether it may sign requests at all.
* :func:`account_number` - the stable 12-digit number that stands for an account in ARNs.
* :func:`verify_sigv4` / :func:`verify_sigv2` - the signature checks, in constant time.
* :func:`check_request_time` / :func:`check_sigv2_time` - the +/-15 minute window (and a
  presigned URL's or a SigV2 ``Expires``' expiry).
"""

from services.auth.domain._credential import Credential, account_number
from services.auth.domain._sigv4 import (
    SKEW_SECONDS,
    check_request_time,
    check_sigv2_time,
    parse_amz_date,
    signing_key,
    verify_sigv2,
    verify_sigv4,
)

__all__ = [
    "SKEW_SECONDS", "Credential", "account_number", "check_request_time", "check_sigv2_time", "parse_amz_date",
    "signing_key", "verify_sigv2", "verify_sigv4",
]
