"""Privacy: encryption and key ring, key rotation, blind indexes, masking, normalisation,
pseudonymised extracts."""

from memberlens.privacy._export import ExportReport, ExportRequest, export_table
from memberlens.privacy._keyring import KeyRing, default_key_file, load_key_ring
from memberlens.privacy._masking import mask, mask_email, mask_phone, mask_text
from memberlens.privacy._rotate import (
    KeyUsage,
    RotationReport,
    key_usage,
    mark_rotation,
    pending_values,
    rotate,
    rotation_in_progress,
)
from memberlens.schema import PHONE_NOISE, normalise_email, normalise_phone

__all__ = [
    "PHONE_NOISE",
    "ExportReport",
    "ExportRequest",
    "KeyRing",
    "KeyUsage",
    "RotationReport",
    "default_key_file",
    "export_table",
    "key_usage",
    "load_key_ring",
    "mark_rotation",
    "mask",
    "mask_email",
    "mask_phone",
    "mask_text",
    "normalise_email",
    "normalise_phone",
    "pending_values",
    "rotate",
    "rotation_in_progress",
]
