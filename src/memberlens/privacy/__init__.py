"""Privacy: encryption and key ring, blind indexes, masking, normalisation."""

from memberlens.privacy._keyring import KeyRing, default_key_file, load_key_ring
from memberlens.privacy._masking import mask, mask_email, mask_phone, mask_text
from memberlens.schema import PHONE_NOISE, normalise_email, normalise_phone

__all__ = [
    "PHONE_NOISE",
    "KeyRing",
    "default_key_file",
    "load_key_ring",
    "mask",
    "mask_email",
    "mask_phone",
    "mask_text",
    "normalise_email",
    "normalise_phone",
]
