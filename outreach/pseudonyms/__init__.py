"""Pseudonym codes: stage-1 digest (browser or server), stage-2 keyed HMAC (server only)."""
