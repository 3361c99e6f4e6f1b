"""Privacy: encryption and key ring, key rotation, blind indexes, masking, normalisation,
consent, pseudonymised extracts."""

from memberlens.privacy._consent import (
    ANY_CHANNEL,
    CHANNELS,
    KEY_SEP,
    LIST_SEP,
    consent_history,
    consent_slot,
    consent_slots,
    default_decision,
    effective_consent,
    may_use,
    naive_utc,
)
from memberlens.privacy._export import ExportReport, ExportRequest, export_table
from memberlens.privacy._keyring import KeyRing, default_key_file, load_key_ring
from memberlens.privacy._masking import mask, mask_contacts, mask_email, mask_phone, mask_text
from memberlens.privacy._reach import (
    CONTACTS,
    MessageKind,
    apply_newer,
    may_message,
    reachability,
)
from memberlens.privacy._rotate import (
    KeyUsage,
    RotationReport,
    key_usage,
    mark_rotation,
    pending_values,
    rotate,
    rotation_in_progress,
)
from memberlens.privacy.contracts import (
    CONSENT_WORDS,
    STATED_CODES,
    ConsentCode,
    ConsentDecision,
    ConsentRecord,
)
from memberlens.schema import PHONE_NOISE, normalise_email, normalise_phone

__all__ = [
    "ANY_CHANNEL",
    "CHANNELS",
    "CONSENT_WORDS",
    "CONTACTS",
    "KEY_SEP",
    "LIST_SEP",
    "PHONE_NOISE",
    "STATED_CODES",
    "ConsentCode",
    "ConsentDecision",
    "ConsentRecord",
    "ExportReport",
    "ExportRequest",
    "KeyRing",
    "KeyUsage",
    "MessageKind",
    "RotationReport",
    "apply_newer",
    "consent_history",
    "consent_slot",
    "consent_slots",
    "default_decision",
    "default_key_file",
    "effective_consent",
    "export_table",
    "key_usage",
    "load_key_ring",
    "mark_rotation",
    "mask",
    "mask_contacts",
    "mask_email",
    "mask_phone",
    "mask_text",
    "may_message",
    "may_use",
    "naive_utc",
    "normalise_email",
    "normalise_phone",
    "pending_values",
    "reachability",
    "rotate",
    "rotation_in_progress",
]
