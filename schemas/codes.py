"""Stable check codes shared by every part of the federation.

Categories follow the UN ITL's: 1xxx message and authentication, 2xxx platform and account validity,
3xxx units and serial blocks, 4xxx activity-level double counting, 5xxx recognition policy, 6xxx
transaction sequence and idempotency, 7xxx reconciliation. A published code keeps its meaning.
Codes appear in problem details (``code`` and ``errors[].code``) and in decision records.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Category(StrEnum):
    MESSAGE = "message and authentication"
    PLATFORM = "platform and account validity"
    UNITS = "units and serial blocks"
    ACTIVITY = "activity-level double counting"
    RECOGNITION = "recognition policy"
    SEQUENCE = "transaction sequence and idempotency"
    RECONCILIATION = "reconciliation"


_CATEGORY_BY_DIGIT = {
    "1": Category.MESSAGE,
    "2": Category.PLATFORM,
    "3": Category.UNITS,
    "4": Category.ACTIVITY,
    "5": Category.RECOGNITION,
    "6": Category.SEQUENCE,
    "7": Category.RECONCILIATION,
}


@dataclass(frozen=True, slots=True)
class CheckCode:
    code: str
    name: str
    message: str

    @property
    def category(self) -> Category:
        return _CATEGORY_BY_DIGIT[self.code[0]]


def _codes(*items: CheckCode) -> dict[str, CheckCode]:
    table: dict[str, CheckCode] = {}
    for item in items:
        if item.code in table or not (len(item.code) == 4 and item.code[0] in _CATEGORY_BY_DIGIT):
            raise ValueError(f"bad or duplicate check code {item.code}")
        table[item.code] = item
    return table


CHECK_CODES: dict[str, CheckCode] = _codes(
    CheckCode("1001", "malformed-body", "The request body is not well-formed JSON."),
    CheckCode(
        "1002",
        "schema-violation",
        "A member does not conform to the exchange schema (a record) or to the route's request model"
        " (any other body).",
    ),
    CheckCode("1003", "unknown-schema", "No exchange schema of that name exists."),
    CheckCode("1004", "invalid-request", "A request parameter is missing or invalid."),
    CheckCode("1010", "jws-malformed", "The JWS is not a well-formed compact serialization."),
    CheckCode("1011", "signature-invalid", "The signature does not verify over the signed bytes."),
    CheckCode("1012", "unknown-key", "The JWS names a key (kid) that is not known for its signer."),
    CheckCode("1013", "algorithm-unsupported", "The JWS algorithm is not EdDSA/Ed25519."),
    CheckCode("1014", "payload-not-canonical", "The signed payload is not RFC 8785 canonical JSON."),
    CheckCode("1015", "critical-header", "The JWS carries a critical header parameter not understood."),
    CheckCode("1016", "signature-missing", "A state-changing request from a platform carries no signature."),
    CheckCode("1017", "replayed-request", "A request with this jti was already received."),
    CheckCode("1018", "clock-skew", "The signed iat is more than the allowed skew from the hub's clock."),
    CheckCode("1019", "signature-binding", "The signature was made for another method or path."),
    CheckCode(
        "1020",
        "envelope-malformed",
        "The signed envelope is not {signed, signatures: [{kid, jws}]}.",
    ),
    CheckCode(
        "1021",
        "signature-threshold-not-met",
        "Fewer keys of the role signed than its threshold requires.",
    ),
    CheckCode(
        "1022",
        "root-inconsistent",
        "The committee root names a key it does not list, a threshold above its keys, or a kid"
        " that is not its key's thumbprint.",
    ),
    CheckCode("1023", "root-version-not-next", "A new committee root must carry the trusted version + 1."),
    CheckCode("1024", "root-expired", "The committee root has expired."),
    CheckCode("1025", "committee-mismatch", "The document names a committee other than the trusted one."),
    CheckCode("1030", "token-missing", "No access token was presented."),
    CheckCode("1031", "token-invalid", "The access token is malformed, badly signed, expired or unknown."),
    CheckCode("1032", "token-revoked", "The access token has been revoked."),
    CheckCode("1033", "insufficient-scope", "The access token lacks a scope the operation requires."),
    CheckCode("1034", "rate-limited", "The client sent more requests than its rate limit allows."),
    CheckCode("1035", "body-too-large", "The request body exceeds the size limit."),
    CheckCode(
        "1040",
        "encoding-invalid",
        "The payload is not in the character encoding the platform's format declares.",
    ),
    CheckCode("1041", "local-field-missing", "A field the platform's format requires is missing or empty."),
    CheckCode(
        "1042",
        "local-value-invalid",
        "A field of the platform's format holds a value that cannot be read (date, identifier, code).",
    ),
    CheckCode(
        "1043",
        "payload-malformed",
        "The payload is not well-formed in the platform's format (JSON, CSV, XML) or not of its shape.",
    ),
    CheckCode("1044", "media-type-unsupported", "The content type is not one the platform's adapter reads."),
    CheckCode(
        "1045",
        "record-kind-unsupported",
        "The platform's format cannot carry this kind of exchange record.",
    ),
    CheckCode(
        "1046",
        "body-encoding",
        "The request body is not UTF-8 (a byte-order mark, UTF-16 or UTF-32, or invalid bytes).",
    ),
    CheckCode(
        "1047",
        "json-too-deep",
        "Arrays and objects nest deeper than the hub reads (32 levels).",
    ),
    CheckCode(
        "1048",
        "duplicate-member",
        "A JSON object names the same member twice.",
    ),
    CheckCode(
        "1049",
        "text-character-refused",
        "A text or member name holds a NUL character or a lone UTF-16 surrogate.",
    ),
    CheckCode(
        "1056",
        "witness-name-taken",
        "A peer's witness key name holds '~' or is the witness key name of another peered hub.",
    ),
    CheckCode(
        "1060",
        "hub-signature-missing",
        "A hub-to-hub request carries no Puhui-Hub-Signature, or one without its claims (typ, iss, aud, iat,"
        " jti, htm, htu).",
    ),
    CheckCode("1061", "hub-unknown", "The hub that signed the request (iss) is not a peer of this hub."),
    CheckCode("1062", "hub-audience", "The hub-to-hub request was signed for another hub (aud)."),
    CheckCode("2001", "platform-exists", "A platform with this code is already registered."),
    CheckCode("2002", "platform-unknown", "No platform with this code is registered."),
    CheckCode("2003", "client-suspended", "The client or its platform is suspended."),
    CheckCode("2004", "not-issuer", "A platform issues only in its own registry and serial namespace."),
    CheckCode("2005", "account-elsewhere", "The account named is not in the destination registry."),
    CheckCode(
        "2010", "not-permitted", "The caller's role does not permit this action on this platform or object."
    ),
    CheckCode(
        "2011",
        "key-change-unsigned",
        "A platform's keys change only by a request signed with one of its current keys.",
    ),
    CheckCode(
        "2012",
        "second-administrator-required",
        "A key override must be approved by an administrator other than the one who proposed it.",
    ),
    CheckCode("2013", "key-override-closed", "The key override was already applied, or has expired."),
    CheckCode("2020", "peer-suspended", "The peering with the hub that sent the request is suspended."),
    CheckCode("2021", "peer-exists", "A peering with that hub origin is already registered."),
    CheckCode(
        "2022", "registry-served-elsewhere", "The registry is served by this hub or by another peered hub."
    ),
    CheckCode(
        "2023",
        "peer-key-invalid",
        "A peer's vkey or JWK Set does not parse, or has another key name or type.",
    ),
    CheckCode(
        "2024",
        "not-destination-hub",
        "The hub answering a forwarded recognition does not serve its destination.",
    ),
    CheckCode("2025", "peer-unknown", "No peering with that id or origin is registered."),
    CheckCode("3001", "serial-range-malformed", "The serial range ends before it starts."),
    CheckCode("3002", "quantity-mismatch", "The quantity is not serial_end - serial_start + 1."),
    CheckCode("3003", "total-mismatch", "The stated total is not the sum of the items."),
    CheckCode("3004", "period-malformed", "A date range or time window ends before it starts."),
    CheckCode(
        "3005",
        "amount-not-exact",
        "The amount does not convert exactly to whole tonnes or grams; amounts are never rounded.",
    ),
    CheckCode("3006", "amount-negative", "The amount is negative."),
    CheckCode("3007", "duplicate-record", "The batch carries the same record more than once."),
    CheckCode("3008", "serials-overlap-in-batch", "Two blocks of the same batch share serial numbers."),
    CheckCode(
        "3009",
        "amount-format-invalid",
        "The amount is not a plain decimal (exponent, thousands separator, sign or stray characters).",
    ),
    CheckCode("3010", "points-not-convertible", "The platform's points have no gram value."),
    CheckCode("3011", "serial-overlap", "The serials overlap a block already registered in the namespace."),
    CheckCode("3012", "already-registered", "A record with this id is already registered."),
    CheckCode("3013", "status-not-issuable", "A newly issued block is held or encumbered."),
    CheckCode("3020", "block-not-held", "The block is not held by the sender (EU registry 7027)."),
    CheckCode("3021", "block-final", "The block is retired or cancelled: it never moves or counts again."),
    CheckCode("3022", "block-exported", "The block was exported from its origin."),
    CheckCode("3023", "block-encumbered", "The block is pledged (encumbered) until released."),
    CheckCode("3024", "block-locked", "The block is locked by a pending transfer (its serials are in one)."),
    CheckCode("3025", "serials-outside-block", "The requested serials are not all in the registered block."),
    CheckCode("3026", "serials-already-recognized", "The serials are already under another recognition."),
    CheckCode("3027", "parts-overlap", "Two parts of one request share serials (or name one block twice)."),
    CheckCode(
        "3029",
        "serials-reserved-for-certificate",
        "The serials are reserved for a recognition certificate; only an operation naming it uses them.",
    ),
    CheckCode(
        "4001",
        "double-issuance",
        "The project is already credited by another registry for an overlapping period.",
    ),
    CheckCode("4002", "personal-duplicate", "The personal activity is already counted by another platform."),
    CheckCode(
        "4010",
        "peer-claim-registry-not-served",
        "A peered hub's claim names a registry its peering does not list (or one this hub serves).",
    ),
    CheckCode(
        "4011", "peer-claim-feed-malformed", "A peered hub's claim feed answer is malformed or out of order."
    ),
    CheckCode(
        "4012",
        "peer-pseudonym-key-differs",
        "The peered hub pseudonymizes with another federation key: claims cannot be compared.",
    ),
    CheckCode(
        "4013",
        "cross-hub-double-issuance",
        "A peered hub's claim on a project collides with a claim accepted here before the hubs synced.",
    ),
    CheckCode(
        "4014",
        "cross-hub-personal-duplicate",
        "A peered hub's personal activity collides with one counted here before the hubs synced.",
    ),
    CheckCode(
        "5001",
        "no-equivalence",
        "No equivalence rule maps the methodology from the origin to the destination.",
    ),
    CheckCode("5002", "ruleset-not-in-force", "The ruleset is not in force on that date."),
    CheckCode("5003", "eligibility-condition-failed", "An eligibility condition of the rule is not met."),
    CheckCode(
        "5004",
        "purpose-not-accepted",
        "The destination does not accept credits of that origin for that purpose.",
    ),
    CheckCode(
        "5005",
        "purpose-limit-exceeded",
        "The use would exceed a purpose limit (share of verified emissions or outside the region).",
    ),
    CheckCode(
        "5006",
        "ruleset-version-invalid",
        "The ruleset version does not follow the published ones (version, supersedes, committee).",
    ),
    CheckCode(
        "5007",
        "ruleset-inconsistent",
        "The ruleset contradicts itself or the methodology catalogue.",
    ),
    CheckCode(
        "5008",
        "no-ruleset-in-force",
        "No ruleset in force covers that origin and destination on that date.",
    ),
    CheckCode(
        "5009",
        "purpose-limit-inputs-missing",
        "The purpose has limits but the covered entity's verified emissions and prior use are not given.",
    ),
    CheckCode(
        "5010",
        "methodology-unknown",
        "The methodology is not in the catalogue for that registry.",
    ),
    CheckCode("5011", "same-registry", "Recognition and transfer are between two registries."),
    CheckCode(
        "5012", "use-not-recognized", "Credits used for another region's ETS need that region's recognition."
    ),
    CheckCode("5013", "certificate-unknown", "No recognition certificate of that id exists."),
    CheckCode(
        "5014",
        "certificate-mismatch",
        "The certificate does not reserve exactly these serials, or is for another destination or purpose.",
    ),
    CheckCode("5015", "certificate-not-usable", "The certificate was used already or withdrawn."),
    CheckCode(
        "5020",
        "refused-by-destination-hub",
        "The hub serving the destination refused the forwarded recognition (its checks are named).",
    ),
    CheckCode(
        "5021",
        "forwarded-mismatch",
        "What a peered hub sent does not match the recognition it names (blocks, certificate).",
    ),
    CheckCode("5022", "recognition-not-forwarded", "No recognition of that id was forwarded by this hub."),
    CheckCode(
        "6001", "conflicting-write", "The change conflicts with one committed meanwhile; nothing was stored."
    ),
    CheckCode("6002", "illegal-transition", "The record is not in a state that allows this step."),
    CheckCode("6003", "four-eyes", "A second approval must come from another operator."),
    CheckCode("6004", "idempotency-key-reused", "The Idempotency-Key was used before with another body."),
    CheckCode(
        "6005", "request-in-flight", "The first request under this Idempotency-Key is still being processed."
    ),
    CheckCode("6010", "transfer-not-crossing", "No transfer of that id crosses hubs with the calling hub."),
    CheckCode("6011", "transfer-id-taken", "A transfer of that id is known here already, from another hub."),
    CheckCode(
        "6012", "not-the-transfer-peer", "The calling hub is not the other hub of that cross-hub transfer."
    ),
    CheckCode(
        "6013",
        "transfer-decision-conflict",
        "The decision contradicts the one already taken for the transfer.",
    ),
    CheckCode(
        "6014",
        "transfer-outcome-conflict",
        "The outcome contradicts the one already applied for the transfer.",
    ),
    CheckCode(
        "6015", "offered-blocks-invalid", "The offered blocks are not credit blocks of the origin registry."
    ),
    CheckCode("6016", "certificate-across-hubs", "A recognition certificate is not carried across hubs."),
    CheckCode("7001", "totals-inconsistent", "The platform's totals differ from the hub's."),
    CheckCode("7002", "block-missing", "A block is held on one side only."),
    CheckCode("7003", "block-differs", "A block's serials, quantity or status differ between the two sides."),
    CheckCode("7004", "totals-do-not-add-up", "The submitted totals do not add up the submitted blocks."),
    CheckCode("7005", "audit-trail-inconsistent", "A registry change has no matching log entry."),
    CheckCode("7006", "reconciliation-closed", "The reconciliation is already completed."),
    CheckCode(
        "7010",
        "log-inconsistent",
        "The stored log does not extend the hub's latest checkpoint (it was rewritten); nothing is signed.",
    ),
    CheckCode(
        "7011", "no-checkpoint", "The log has no signed checkpoint yet; the checkpointer signs one shortly."
    ),
    CheckCode("7012", "no-such-tile", "The tile path is malformed, or the log's tree is not that wide."),
    CheckCode(
        "7013",
        "entry-too-large-for-bundle",
        "A log entry over 65535 bytes cannot be in an entry bundle; it is served by /v1/log/entries.",
    ),
    CheckCode(
        "7014", "not-checkpointed", "The log entry is not covered by a signed checkpoint yet; retry shortly."
    ),
    CheckCode("7015", "event-not-logged", "The object has no logged event of that kind (not completed yet)."),
    CheckCode("7020", "witness-request-malformed", "The add-checkpoint request is not well formed."),
    CheckCode("7021", "witness-unknown-origin", "The witness does not witness the checkpoint's origin."),
    CheckCode(
        "7022", "witness-signature-invalid", "No signature of the checkpoint verifies with the log's keys."
    ),
    CheckCode(
        "7023", "witness-old-size-stale", "The old size is not the size of the latest cosigned checkpoint."
    ),
    CheckCode(
        "7024",
        "split-view",
        "The checkpoint has the size of the latest cosigned one and another root: the log shows two views.",
    ),
    CheckCode(
        "7025",
        "consistency-proof-failed",
        "The checkpoint is not proved consistent with the latest cosigned one: evidence of a fork.",
    ),
    CheckCode("7026", "witnessed-log-invalid", "A witnessed log's origin or verifier keys are not valid."),
    CheckCode("7027", "witness-alarm-unknown", "No such witness alarm, or it is already acknowledged."),
)


def check_code(code: str) -> CheckCode:
    """The registered check code ``code``; a KeyError names an unregistered one."""
    return CHECK_CODES[code]
