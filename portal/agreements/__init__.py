"""Agreements: drafting, e-signing, printing and public verification."""
